#!/usr/bin/env python3
"""Writes the encoding and delimiter test files of tests/e2e/test_encodings.sh.

Every people_* file holds the same people as people_utf8_comma.csv (the twin), written as HR
exports come: with a UTF-8 byte order mark, as UTF-16 LE/BE with a mark (Excel's "Unicode
text"), as Windows-1252, separated by ';' (German Excel) or tabs. enroll_* likewise for an
enrollment survey. Run it from this folder; the files are committed, so tests do not need Python.
"""

people = [
    ["id", "name", "email", "timezone", "department", "skills"],
    ["e1", "Zoë Müller", "zoe@example.com", "Europe/Berlin", "Forschung; Entwicklung", "python;sql"],
    ["e2", "José Núñez", "jose@example.com", "Europe/Madrid", "Ventas", ""],
    ["e3", "François Œuvre", "francois@example.com", "Europe/Paris", "R&D, \"Labs\"", "c"],
    ["e4", "Ana Smith", "ana@example.com", "America/New_York", "Sales", "excel"],
]
enroll = [
    ["person", "role", "capacity", "consent"],
    ["e1", "mentor", "2", "yes"],
    ["e2", "mentee", "", "yes"],
    ["e3", "mentee", "", "no"],
    ["e4", "mentor", "1", "yes"],
]


def render(rows, sep):
    out = []
    for row in rows:
        cells = []
        for c in row:
            if any(ch in c for ch in (sep, '"', "\n", "\r")):
                c = '"' + c.replace('"', '""') + '"'
            cells.append(c)
        out.append(sep.join(cells))
    return "\r\n".join(out) + "\r\n"


def write(name, text, enc, bom=b""):
    with open(name, "wb") as f:
        f.write(bom + text.encode(enc))


for prefix, rows in (("people", people), ("enroll", enroll)):
    comma = render(rows, ",")
    write(prefix + "_utf8_comma.csv", comma, "utf-8")
    write(prefix + "_utf8_bom.csv", comma, "utf-8", b"\xef\xbb\xbf")
    write(prefix + "_utf16le_bom.csv", render(rows, "\t"), "utf-16-le", b"\xff\xfe")
    write(prefix + "_utf16be_bom.csv", comma, "utf-16-be", b"\xfe\xff")
    write(prefix + "_semicolon.csv", render(rows, ";"), "utf-8")
    write(prefix + "_tab.csv", render(rows, "\t"), "utf-8")
    write(prefix + "_cp1252_semicolon.csv", render(rows, ";"), "cp1252")
write("people_utf16le_nobom.csv", render(people, ","), "utf-16-le")
write("enroll_utf16be_nobom.csv", render(enroll, ";"), "utf-16-be")
write("people_cp1252.csv", render(people, ","), "cp1252")
# A lone high surrogate (U+D800) in the third line's name: an error naming line 3.
bad = render(people, ",").encode("utf-16-le")
i = bad.index("José".encode("utf-16-le"))
write("people_utf16le_unpaired.csv", "", "utf-8", b"\xff\xfe" + bad[:i] + b"\x00\xd8" + bad[i:])
