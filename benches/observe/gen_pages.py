#!/usr/bin/env python3
"""Writes the perception benchmark pages: a small shop (~50 elements) and product lists of
~1,000 and ~12,000 elements. Deterministic: the same files on every run.

Usage: gen_pages.py OUTDIR
"""
import sys
from pathlib import Path

HEAD = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:sans-serif;margin:0 16px}}
.row{{display:flex;gap:12px;align-items:center;height:26px;border-bottom:1px solid #eee}}
.card{{cursor:pointer;border:1px solid #ccc;padding:6px;margin:4px;display:inline-block;width:260px}}
</style></head><body>
"""


def small_shop() -> str:
    cards = []
    for i, (name, price) in enumerate([("Brass desk lamp", "24.99"), ("Oak chair", "89.00"),
                                       ("Linen curtain", "34.50"), ("Wool rug", "120.00"),
                                       ("Glass vase", "15.75"), ("Steel shelf", "64.20")]):
        cards.append(
            f'<div class="card" onclick="void 0"><img alt="{name}" width="40" height="40">'
            f'<span class="name">{name}</span> <span class="price">${price}</span>'
            f'<button type="button">Add to cart</button></div>')
    return (HEAD.format(title="Shop") +
            '<header><a href="/">Home</a> <a href="/deals">Deals</a> <a href="/cart">Cart (2)</a>'
            '<form role="search"><input type="search" name="q" placeholder="Search products">'
            '<select name="sort"><option>Relevance</option><option>Price low</option>'
            '<option>Price high</option></select>'
            '<label><input type="checkbox" name="prime"> Prime</label>'
            '<button>Search</button></form></header>\n<main>' + "\n".join(cards) +
            '</main><footer><a href="/about">About</a> <a href="/help">Help</a></footer>'
            '</body></html>\n')


def rows(count: int, title: str) -> str:
    """`count` rows of four elements each: a row, its text, a link and a button."""
    out = [HEAD.format(title=title)]
    for i in range(count):
        price = (i * 7919) % 10000 / 100
        out.append(f'<div class="row"><span>Item {i} costs ${price:.2f}</span>'
                   f'<a href="/item/{i}">Item {i}</a><button type="button">Buy {i}</button></div>\n')
    out.append("</body></html>\n")
    return "".join(out)


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    (out / "small.html").write_text(small_shop())
    (out / "medium.html").write_text(rows(250, "Medium list"))
    (out / "large.html").write_text(rows(3000, "Large list"))


if __name__ == "__main__":
    main()
