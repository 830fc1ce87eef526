// Check digits of card numbers (Luhn) and IBANs (ISO 13616, mod 97): masking generates valid ones, PII discovery
// recognises real ones, with the same arithmetic.

/** Luhn sum of digits, doubling every second digit from the right (from the last one when `doubleLast`). */
function luhnSum(digits: string, doubleLast: boolean): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let n = Number(digits[digits.length - 1 - i]);
    if (i % 2 === (doubleLast ? 0 : 1)) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
    sum += n;
  }
  return sum;
}

/** The digit that makes `body` + digit Luhn-valid. */
export function luhnDigit(body: string): number {
  return (10 - (luhnSum(body, true) % 10)) % 10;
}

/** A 13-19 digit card number (spaces and dashes allowed) with a valid Luhn check digit. */
export function luhnValid(s: string): boolean {
  const d = s.replace(/[\s-]/g, "");
  return /^\d{13,19}$/.test(d) && luhnSum(d, false) % 10 === 0;
}

/** IBAN letters as numbers (A=10 ... Z=35), then mod 97, digit by digit. */
function mod97(s: string): number {
  let mod = 0;
  for (const ch of s.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55))) mod = (mod * 10 + Number(ch)) % 97;
  return mod;
}

/** The two check digits of an IBAN for `country` and `bban`. */
export function ibanCheckDigits(country: string, bban: string): string {
  return String(98 - mod97(bban + country + "00")).padStart(2, "0");
}

/** An IBAN (spaces allowed) whose check digits hold. */
export function ibanValid(s: string): boolean {
  const v = s.replace(/\s/g, "").toUpperCase();
  return /^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(v) && mod97(v.slice(4) + v.slice(0, 4)) === 1;
}
