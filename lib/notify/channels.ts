// Notification channels as admins configure them: validated with zod (the form and any import use this schema).
import { z } from "zod";
import { identifier } from "../config/schema";
import { NOTIFY_EVENTS } from "./events";
import { webhookTargetProblem } from "./webhook-target";

export { EVENT_LABELS, NOTIFY_EVENTS, type NotifyEvent } from "./events";

const email = z.string().trim().email();

export const channelSchema = z
  .object({
    name: identifier,
    kind: z.enum(["email", "slack", "teams", "webhook"]),
    target: z.string().trim().min(1, "must not be empty"),
    events: z.array(z.enum(NOTIFY_EVENTS)).min(1, "choose at least one event"),
    longRunMinutes: z.number().int().min(1).max(7 * 24 * 60).nullable().default(null),
    lagHours: z.number().int().min(1).max(24 * 365).nullable().default(null),
    /** Empty: every environment. */
    environments: z.array(z.string().min(1).max(40)).max(50).default([]),
    enabled: z.boolean().default(true),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.kind === "email") {
      const bad = c.target.split(",").map((s) => s.trim()).filter((s) => !email.safeParse(s).success);
      if (bad.length) ctx.addIssue({ code: "custom", path: ["target"], message: `not an email address: ${bad.join(", ")}` });
    } else {
      const problem = webhookTargetProblem(c.target);
      if (problem) ctx.addIssue({ code: "custom", path: ["target"], message: problem });
    }
    if (c.events.includes("run_long") && !c.longRunMinutes) ctx.addIssue({ code: "custom", path: ["longRunMinutes"], message: "is required for the run_long event" });
    if (c.events.includes("table_lag") && !c.lagHours) ctx.addIssue({ code: "custom", path: ["lagHours"], message: "is required for the table_lag event" });
  });

export type ChannelInput = z.infer<typeof channelSchema>;
