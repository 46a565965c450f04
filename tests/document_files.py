"""Real document files for the format tests, made on the spot with the libraries that
write them (fpdf2, pypdf, python-docx), so every test reads a genuine file."""

from __future__ import annotations

from pathlib import Path


def write_pdf(path: Path, pages: list[str], *, title: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 7, text)
    pdf.output(str(path))
    return path


def write_encrypted_pdf(path: Path, text: str, password: str = "secret") -> Path:
    import pypdf

    plain = write_pdf(path.with_suffix(".plain.pdf"), [text])
    writer = pypdf.PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    with open(path, "wb") as handle:
        writer.write(handle)
    plain.unlink()
    return path


def write_image_only_pdf(path: Path) -> Path:
    """A PDF whose page is a drawing without any text layer, as a scan is."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(40, 40, 40)
    for row in range(20):
        pdf.rect(10, 10 + row * 12, 150 - row * 3, 6, style="F")
    pdf.output(str(path))
    return path


def write_docx(path: Path, heading: str, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    document.save(str(path))
    return path


#: Text that sits around a web page's article: none of it may reach the extracted text.
PAGE_CHROME = ("Subscribe to our newsletter", "var tracker", "Home | World | Sport", "Cookie settings")


def write_html(path: Path, title: str, paragraphs: list[str], date: str = "2025-03-14") -> Path:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    path.write_text(
        f"""<!DOCTYPE html><html><head><title>{title}</title>
<meta property="article:published_time" content="{date}">
<script>var tracker = {{id: 1}};</script><style>p {{ color: black; }}</style></head>
<body><header><nav><a href="/">Home | World | Sport</a></nav></header>
<main><article><h1>{title}</h1>{body}</article></main>
<aside>Subscribe to our newsletter</aside><footer><a href="/c">Cookie settings</a></footer></body></html>""",
        encoding="utf-8",
    )
    return path
