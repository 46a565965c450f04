"""The web chat, split by concern; gradio is imported only by `qa.ui.app`.

- `render`: answers, sources and corpus facts as escaped HTML/Markdown (pure functions).
- `chat`: one chat turn: ask the engine, turn the answer or the error into messages.
- `app`: the Gradio Blocks (`create_app`) and the server (`launch`).
- `viewer`: the pages that open a citation at its source (a PDF at its page through pdf.js,
  vendored in `static/pdfjs/`; any other document as its stored text), highlighted.

`qa.app` is the entry point the CLI uses.
"""
