#!/usr/bin/env python3
"""Comparison baseline for the receipt benchmark: renders the same receipt content as HTML
with WeasyPrint (no signature) and prints the median time.

Usage: receipt_weasyprint.py MODEL.json [RUNS]
MODEL.json is a serialised lotse ReceiptModel (written by `cargo bench -p lotse-receipt --bench
receipt`). Prints one line: `weasyprint pages=N bytes=B median_ms=M runs=R`.
"""
import html
import json
import statistics
import sys
import time

import weasyprint

CSS = """
@page { size: A4; margin: 22mm 20mm 22mm 20mm;
  @bottom-left { content: "%(footer)s"; font: 8pt 'DejaVu Sans'; color: #666; }
  @bottom-right { content: "Seite " counter(page) " von " counter(pages); font: 8pt 'DejaVu Sans'; color: #666; } }
body { font: 10pt/13.5pt 'DejaVu Sans'; color: #222; }
.band { background: %(colour)s; color: white; margin: -22mm -20mm 10mm; padding: 8mm 20mm; }
.band h1 { font-size: 17pt; margin: 0; } .band p { margin: 0; }
h2 { font-size: 19pt; } h3 { color: %(colour)s; border-bottom: 0.8pt solid %(colour)s; font-size: 12.5pt; }
table { width: 100%%; border-collapse: collapse; }
td { border-bottom: 0.4pt solid #ddd; padding: 2.5pt 0; vertical-align: top; }
td.l { width: 38%%; color: #666; }
.group { border-left: 1.6pt solid #aac; padding-left: 4mm; }
.note { background: #eef2f9; border-left: 2pt solid %(colour)s; padding: 3mm; }
"""


def entries(items):
    out = []
    for e in items:
        if e["is_group"]:
            out.append("<p><b>%s</b></p><div class='group'>%s</div>"
                       % (html.escape(e["label"]), entries(e["entries"])))
        else:
            out.append("<table><tr><td class='l'>%s</td><td>%s</td></tr></table>"
                       % (html.escape(e["label"]), html.escape(e["value"]).replace("\n", "<br>")))
    return "".join(out)


def page(model):
    t = model["tenant"]
    body = ["<div class='band'><h1>%s</h1><p>%s</p><p>%s</p></div>"
            % (html.escape(t["name"]), html.escape(t["office"]),
               "<br>".join(html.escape(a) for a in t["address_lines"])),
            "<h2>Eingangsbestätigung</h2>",
            entries([{"is_group": False, "label": "Aktenzeichen", "value": model["reference"]},
                     {"is_group": False, "label": "Leistung", "value": model["service_title"]}])]
    for s in model["sections"]:
        body.append("<h3>%s</h3>%s" % (html.escape(s["title"]), entries(s["entries"])))
    body.append("<h3>Gebühren und Beträge</h3>" + entries(model["computed"]))
    body.append("<p class='note'>Diese Bestätigung dokumentiert den Eingang Ihres Antrags. "
                "Sie ist keine Entscheidung über den Antrag.</p>")
    css = CSS % {"colour": t["colour_hex"],
                 "footer": (t["name"] + " · " + model["reference"]).replace('"', "'")}
    return "<html lang='de'><head><meta charset='utf-8'><style>%s</style></head><body>%s</body></html>" % (
        css, "".join(body))


def main():
    model = json.load(open(sys.argv[1], encoding="utf-8"))
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    source = page(model)
    times, pdf, pages = [], b"", 0
    for _ in range(runs):
        start = time.perf_counter()
        doc = weasyprint.HTML(string=source).render()
        pdf = doc.write_pdf()
        times.append((time.perf_counter() - start) * 1000)
        pages = len(doc.pages)
    print("weasyprint pages=%d bytes=%d median_ms=%.1f runs=%d"
          % (pages, len(pdf), statistics.median(times), runs))


if __name__ == "__main__":
    main()
