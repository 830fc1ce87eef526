// Sending one message over one channel: SMTP (nodemailer; server and credentials from SMTP_URL / SMTP_FROM) or an
// HTTP webhook in the format the receiver expects (Slack incoming webhook, Teams connector card, generic JSON).
import nodemailer from "nodemailer";
import type { NotificationChannel } from "../generated/prisma/client";

export interface Message {
  event: string;
  subject: string;
  body: string;
  /** The run page (or the dashboard) the message links to. */
  url?: string | null;
}

export class SendError extends Error {}

/** The webhook URL of a channel: literal, or read from the variable named by env:NAME at send time. */
export function webhookUrl(channel: Pick<NotificationChannel, "target">, env: Record<string, string | undefined> = process.env): string {
  const m = /^env:(.+)$/.exec(channel.target);
  if (!m) return channel.target;
  const v = env[m[1]];
  if (!v) throw new SendError(`environment variable ${m[1]} (the webhook URL) is not set`);
  return v;
}

/** The JSON body each kind of receiver understands. */
export function webhookPayload(kind: "slack" | "teams" | "webhook", m: Message): unknown {
  const link = m.url ? `\n${m.url}` : "";
  if (kind === "slack") return { text: `*${m.subject}*\n${m.body}${m.url ? `\n<${m.url}|Open in UAT Refresh>` : ""}` };
  if (kind === "teams")
    return {
      "@type": "MessageCard",
      "@context": "https://schema.org/extensions",
      summary: m.subject,
      themeColor: m.event === "run_partial" || m.event === "run_long" ? "D97706" : "DC2626",
      title: m.subject,
      text: m.body,
      potentialAction: m.url ? [{ "@type": "OpenUri", name: "Open in UAT Refresh", targets: [{ os: "default", uri: m.url }] }] : [],
    };
  return { event: m.event, subject: m.subject, text: `${m.body}${link}`, url: m.url ?? null };
}

export async function send(channel: NotificationChannel, m: Message, env: Record<string, string | undefined> = process.env): Promise<void> {
  if (channel.kind === "email") return sendMail(channel.target, m, env);
  const res = await fetch(webhookUrl(channel, env), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(webhookPayload(channel.kind, m)),
    signal: AbortSignal.timeout(15_000),
  }).catch((e: Error) => {
    throw new SendError(`webhook not reachable: ${e.cause instanceof Error ? e.cause.message : e.message}`);
  });
  if (!res.ok) throw new SendError(`webhook answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
}

async function sendMail(to: string, m: Message, env: Record<string, string | undefined>) {
  if (!env.SMTP_URL) throw new SendError("SMTP_URL is not set (e.g. smtp://user:password@mail.example.com:587)");
  const transport = nodemailer.createTransport(env.SMTP_URL);
  try {
    await transport.sendMail({
      from: env.SMTP_FROM ?? "UAT Refresh <uat-refresh@localhost>",
      to,
      subject: m.subject,
      text: `${m.body}${m.url ? `\n\n${m.url}` : ""}`,
    });
  } catch (e) {
    throw new SendError(`mail not sent: ${(e as Error).message}`);
  } finally {
    transport.close();
  }
}
