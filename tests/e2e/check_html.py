#!/usr/bin/env python3
"""Checks a report page: well-formed (every element closed in order, void elements
aside, no stray end tag), self-contained (no URL, no src/href outside the page),
and prints the number of <svg> charts and of <title>/<desc> inside them.
Usage: check_html.py FILE; exit 1 with the problem on stderr."""
import re
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.svgs, self.titles, self.descs = [], [], 0, 0, 0

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "srcset") and value and not value.startswith("#"):
                self.problems.append(f"external reference {name}={value!r}")
            if name == "style" and value and "url(" in value:
                self.problems.append("url() in a style attribute")
        if tag == "svg":
            self.svgs += 1
        if tag == "title" and "svg" in self.stack:
            self.titles += 1
        if tag == "desc":
            self.descs += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> at line {self.getpos()[0]} closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    c = Checker()
    c.feed(text)
    c.close()
    if c.stack:
        c.problems.append("unclosed: " + " ".join(c.stack))
    if not text.startswith("<!DOCTYPE html>"):
        c.problems.append("no doctype")
    for m in re.finditer(r"(https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", text):
        c.problems.append(f"URL {m.group(0)!r}")
    if re.search(r"<script|<iframe|<link|@import", text, re.I):
        c.problems.append("script, frame, link or @import")
    if c.problems:
        print("\n".join(c.problems[:10]), file=sys.stderr)
        return 1
    print(f"svgs={c.svgs} titles={c.titles} descs={c.descs}")
    return 0


sys.exit(main())
