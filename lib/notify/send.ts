// Sending one message over one channel: SMTP (nodemailer; server and credentials from SMTP_URL / SMTP_FROM) or an
// HTTP webhook in the format the receiver expects (Slack incoming webhook, Teams connector card, generic JSON).
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import nodemailer from "nodemailer";
import type { NotificationChannel } from "../generated/prisma/client";
import { allowlisted, forbiddenAddress, webhookTargetProblem, webhookUrlProblem } from "./webhook-target";

export interface Message {
  event: string;
  subject: string;
  body: string;
  /** The run page (or the dashboard) the message links to. */
  url?: string | null;
}

export class SendError extends Error {}

/** The webhook URL of a channel: literal, or read from the variable named by env:NAME at send time; checked against
 *  the webhook rules (./webhook-target) either way. Errors never quote the value. */
export function webhookUrl(channel: Pick<NotificationChannel, "target">, env: Record<string, string | undefined> = process.env): URL {
  const targetProblem = webhookTargetProblem(channel.target, env);
  if (targetProblem) throw new SendError(`webhook target ${channel.target.startsWith("env:") ? channel.target : "URL"} ${targetProblem}`);
  const m = /^env:(.+)$/.exec(channel.target);
  const value = m ? env[m[1]] : channel.target;
  if (!value) throw new SendError(`environment variable ${m![1]} (the webhook URL) is not set`);
  const problem = webhookUrlProblem(value, env);
  if (problem) throw new SendError(`the webhook URL${m ? ` in ${m[1]}` : ""} ${problem}`);
  return new URL(value);
}

/** Resolves like the system does, then refuses any address a webhook must not reach (unless the host is allowlisted):
 *  the check is on the address the socket connects to. */
export function guardedLookup(url: URL, env: Record<string, string | undefined>): LookupFunction {
  const listed = allowlisted(url, env);
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 0);
      const bad = listed ? undefined : addresses.map((a) => forbiddenAddress(a.address)).find(Boolean);
      if (bad) return callback(Object.assign(new Error(`refused: ${hostname} resolves to ${bad}`), { code: "EFORBIDDEN" }), "", 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** POSTs JSON; a redirect is an answer, never followed. */
function postJson(url: URL, body: string, env: Record<string, string | undefined>): Promise<{ status: number; statusText: string }> {
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, lookup: guardedLookup(url, env), timeout: 15_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "" }));
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 15 s")));
    req.on("error", reject);
    req.end(body);
  });
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
  const url = webhookUrl(channel, env);
  const res = await postJson(url, JSON.stringify(webhookPayload(channel.kind, m)), env).catch((e: Error) => {
    throw new SendError(`webhook not reachable: ${e.message}`);
  });
  if (res.status >= 300 && res.status < 400) throw new SendError(`webhook answered HTTP ${res.status} (a redirect, not followed)`);
  if (res.status < 200 || res.status >= 300) throw new SendError(`webhook answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
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
