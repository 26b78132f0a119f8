// Marks the words that raised a message's urgency, in the client's own writing.
// Triage sends only offsets (code points into the text, never words); the text
// itself is decrypted for this counsellor alone, and goes in as text nodes only.

export function urgentSpans(reasons) {
  const spans = [];
  for (const r of reasons || []) {
    for (const [start, end] of r.spans || []) spans.push({ start, end, category: r.category });
  }
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s.start < last.end) {
      last.end = Math.max(last.end, s.end);
      if (!last.categories.includes(s.category)) last.categories.push(s.category);
    } else {
      merged.push({ start: s.start, end: s.end, categories: [s.category] });
    }
  }
  return merged;
}

export function markedText(text, reasons) {
  const fragment = document.createDocumentFragment();
  const chars = Array.from(text); // code points, as the offsets count them
  let at = 0;
  for (const span of urgentSpans(reasons)) {
    if (span.start < at || span.end > chars.length) continue; // a stale or foreign span: ignore
    fragment.append(chars.slice(at, span.start).join(""));
    const mark = document.createElement("mark");
    mark.className = "urgent-word";
    mark.title = `緊急度を上げた言葉: ${span.categories.join("、")}`;
    mark.textContent = chars.slice(span.start, span.end).join("");
    fragment.append(mark);
    at = span.end;
  }
  fragment.append(chars.slice(at).join(""));
  return fragment;
}
