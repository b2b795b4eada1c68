"""The activity report as PDF for the dashboard's downloads: the same text as the Markdown report
(handlers.report.render_markdown) laid out with fpdf2. fpdf2 is pure Python; the
font is the DejaVu Sans that matplotlib ships (French accents, €, dashes), so nothing else is installed."""

from __future__ import annotations

from pathlib import Path


def _fonts() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def report_pdf(markdown: str, title: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("tierslieu-bot")
    fonts = _fonts()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for line in markdown.splitlines():
        if line.startswith("# "):
            pdf.set_font("DejaVu", "B", 16)
            pdf.multi_cell(width, 8, line[2:], new_x="LMARGIN", new_y="NEXT", align="L")
            pdf.ln(2)
        elif line.startswith("## "):
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 12.5)
            pdf.multi_cell(width, 7, line[3:], new_x="LMARGIN", new_y="NEXT", align="L")
        elif line.startswith("- "):
            pdf.set_font("DejaVu", "", 10)
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(width - 4, 5.2, "• " + line[2:].replace("**", ""), new_x="LMARGIN", new_y="NEXT", align="L")
        elif line.strip():
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(width, 5.2, line.replace("**", ""), new_x="LMARGIN", new_y="NEXT", align="L")
        else:
            pdf.ln(2)
    return bytes(pdf.output())
