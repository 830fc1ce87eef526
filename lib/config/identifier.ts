import { z } from "zod";

// Names are checked against the live catalog before use and always quoted; here we only refuse what no
// catalog can hold (empty, control characters, longer than SQL Server's sysname).
export const identifier = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(128, "must be at most 128 characters")
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "must not contain control characters");
