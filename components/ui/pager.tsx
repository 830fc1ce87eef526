import Link from "next/link";

/** "N things, page x of y" with Previous/Next links; `href(page)` keeps the page's filters. */
export function Pager({ total, noun, page, pages, href }: { total: number; noun: string; page: number; pages: number; href: (page: number) => string }) {
  return (
    <nav aria-label="Pages" className="mt-3 flex items-center gap-3 text-sm">
      <span>{total} {noun}(s), page {page} of {pages}</span>
      {page > 1 && <Link href={href(page - 1)} className="underline">Previous</Link>}
      {page < pages && <Link href={href(page + 1)} className="underline">Next</Link>}
    </nav>
  );
}
