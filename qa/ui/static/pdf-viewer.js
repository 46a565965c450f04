// The PDF view of a citation (qa/ui/viewer.py): pdf.js draws one page and its text layer, and
// the words of the cited passage are highlighted there. The passage is the text the index
// stored for that page (pypdf's reading); pdf.js reads the same page's text again, so the two
// are matched with whitespace dropped, case folded and compatibility forms unified (NFKC:
// ligatures), and the matching characters of pdf.js's text items are wrapped in <mark>.
// Document text is only ever set as text (textContent, text nodes), never parsed as markup.
//
// The body's data-state says "ready" once the page is drawn (or "error"), and its
// data-highlighted how many characters of the passage are marked on the page shown.

import * as pdfjsLib from "./pdf.min.mjs";

pdfjsLib.GlobalWorkerOptions.workerSrc = new URL("./pdf.worker.min.mjs", import.meta.url).href;

// Widest page drawn (CSS pixels): a page fills a narrow window, and stays readable on a wide one.
const MAX_PAGE_WIDTH = 980;
// The shortest start or end of a passage worth matching alone, when pdf.js's text of the page
// differs from the stored one somewhere inside the passage (characters, whitespace dropped).
const MIN_ANCHOR = 12;

const citation = JSON.parse(document.getElementById("qa-citation").textContent);
const body = document.body;
const pageBox = document.getElementById("qa-page");
const canvas = document.getElementById("qa-canvas");
const textBox = document.getElementById("qa-text-layer");
const label = document.getElementById("qa-page-label");
const note = document.getElementById("qa-note");
const previous = document.getElementById("qa-prev");
const next = document.getElementById("qa-next");

let pdf = null;
let shown = 0;
let drawing = null;

// Characters as they are compared: no whitespace, case folded, compatibility forms unified.
// Returns the folded string and, for each of its characters, the index in `text` it came from.
function fold(text) {
  let folded = "";
  const origin = [];
  let at = 0;
  for (const ch of text) {
    for (const f of ch.normalize("NFKC").toLowerCase()) {
      if (!/\s/u.test(f)) {
        folded += f;
        for (let k = 0; k < f.length; k++) origin.push(at);
      }
    }
    at += ch.length;
  }
  return { folded, origin };
}

// [first, last) in `page` (folded) where `passage` (folded) lies; null when it cannot be found.
function locate(page, passage) {
  if (!passage) return null;
  const exact = page.indexOf(passage);
  if (exact >= 0) return [exact, exact + passage.length];
  // The two readings differ somewhere inside: anchor on the longest start and end found.
  let from = -1;
  for (let n = Math.min(passage.length, 80); n >= MIN_ANCHOR && from < 0; n = Math.floor(n * 0.8)) {
    from = page.indexOf(passage.slice(0, n));
  }
  let to = -1;
  for (let n = Math.min(passage.length, 80); n >= MIN_ANCHOR && to < 0; n = Math.floor(n * 0.8)) {
    const at = page.indexOf(passage.slice(passage.length - n), Math.max(0, from));
    if (at >= 0) to = at + n;
  }
  if (from >= 0 && to > from && to - from <= 2 * passage.length) return [from, to];
  if (from >= 0) return [from, Math.min(page.length, from + passage.length)];
  if (to >= 0) return [Math.max(0, to - passage.length), to];
  return null;
}

// Wrap the characters [first, last) of the page's folded text in <mark>, item by item.
function highlight(textLayer) {
  const divs = textLayer.textDivs;
  const strings = textLayer.textContentItemsStr;
  let folded = "";
  const owner = []; // for each folded character: [item, index in the item's string]
  strings.forEach((str, item) => {
    const f = fold(str);
    folded += f.folded;
    for (const at of f.origin) owner.push([item, at]);
  });
  return { folded, owner, mark: (first, last) => markItems(divs, strings, owner, first, last) };
}

function markItems(divs, strings, owner, first, last) {
  const spans = new Map(); // item -> [from, to) in its string
  for (let k = first; k < last; k++) {
    const [item, at] = owner[k];
    const ch = String.fromCodePoint(strings[item].codePointAt(at));
    const span = spans.get(item);
    if (span) span[1] = at + ch.length;
    else spans.set(item, [at, at + ch.length]);
  }
  let marked = 0;
  let firstMark = null;
  for (const [item, [from, to]] of spans) {
    const div = divs[item];
    const str = strings[item];
    const mark = document.createElement("mark");
    mark.className = "qa-cited";
    mark.textContent = str.slice(from, to);
    div.replaceChildren(str.slice(0, from), mark, str.slice(to));
    marked += to - from;
    firstMark ??= mark;
  }
  return { marked, firstMark };
}

function say(message) {
  note.textContent = message;
  note.hidden = !message;
}

async function show(number) {
  const token = {};
  drawing = token;
  body.dataset.state = "loading";
  shown = number;
  label.textContent = `Page ${number} of ${pdf.numPages}`;
  previous.disabled = number <= 1;
  next.disabled = number >= pdf.numPages;
  const page = await pdf.getPage(number);
  const width = Math.min(MAX_PAGE_WIDTH, document.documentElement.clientWidth - 32);
  const viewport = page.getViewport({ scale: width / page.getViewport({ scale: 1 }).width });
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = `${Math.floor(viewport.width)}px`;
  canvas.style.height = `${Math.floor(viewport.height)}px`;
  pageBox.style.width = `${Math.floor(viewport.width)}px`;
  pageBox.style.height = `${Math.floor(viewport.height)}px`;
  pageBox.style.setProperty("--scale-factor", String(viewport.scale));
  await page.render({ canvas, viewport, transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null }).promise;
  textBox.replaceChildren();
  const textLayer = new pdfjsLib.TextLayer({ textContentSource: page.streamTextContent(), container: textBox, viewport });
  await textLayer.render();
  if (drawing !== token) return; // another page was asked for meanwhile

  const passage = citation.cited[String(number)];
  let marked = 0;
  if (passage) {
    const found = highlight(textLayer);
    const range = locate(found.folded, fold(passage).folded);
    if (range) {
      const result = found.mark(range[0], range[1]);
      marked = result.marked;
      result.firstMark?.scrollIntoView({ block: "center" });
      say("");
    } else {
      say("The cited passage could not be found in this page's text as the PDF draws it; \"Show as text\" marks it in the text the index read.");
    }
  } else {
    say("");
  }
  body.dataset.highlighted = String(marked);
  body.dataset.page = String(number);
  body.dataset.state = "ready";
}

previous.addEventListener("click", () => shown > 1 && show(shown - 1));
next.addEventListener("click", () => shown < pdf.numPages && show(shown + 1));

try {
  pdf = await pdfjsLib.getDocument({ url: citation.file, isEvalSupported: false }).promise;
  await show(Math.min(Math.max(1, citation.page), pdf.numPages));
} catch (error) {
  say(`The PDF could not be shown (${error && error.message ? error.message : error}); "Show as text" marks the passage in the text the index read.`);
  body.dataset.state = "error";
}
