// The filter bar shared by the history and audit pages: a GET form, so filters live in the URL.
import Link from "next/link";

const field = "rounded border border-slate-300 px-2 py-1";

export function FilterBar({ clearHref, children }: { clearHref: string; children: React.ReactNode }) {
  return (
    <form className="mb-4 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm" role="search">
      {children}
      <button className="rounded bg-slate-900 px-3 py-1 text-white">Filter</button>
      <Link href={clearHref} className="text-slate-600 underline">Clear</Link>
    </form>
  );
}

export function FilterSelect({ name, label, value, options }: { name: string; label: string; value?: string; options: readonly string[] }) {
  return (
    <label className="flex flex-col">
      {label}
      <select name={name} defaultValue={value ?? ""} className={field}>
        <option value="">any</option>
        {options.map((o) => <option key={o}>{o}</option>)}
      </select>
    </label>
  );
}

export function FilterText({ name, label, value, placeholder }: { name: string; label: string; value?: string; placeholder?: string }) {
  return (
    <label className="flex flex-col">
      {label}
      <input name={name} defaultValue={value} placeholder={placeholder} className={field} />
    </label>
  );
}

export function DateRange({ from, to }: { from?: string; to?: string }) {
  return (
    <>
      <label className="flex flex-col">From<input type="date" name="from" defaultValue={from} className={field} /></label>
      <label className="flex flex-col">To<input type="date" name="to" defaultValue={to} className={field} /></label>
    </>
  );
}
