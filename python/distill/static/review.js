// Keyboard decisions for the review queue. No build step; texts are only ever set as textContent.
(function () {
  "use strict";
  const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  const status = (text) => { const s = document.getElementById("status"); if (s) s.textContent = text; };
  const typing = (el) => el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  const rows = () => Array.from(document.querySelectorAll("tr[data-run]"));
  const decisions = { a: "accept", r: "reject", u: "unsure" };
  let at = 0;

  function mark(i) {
    const all = rows();
    if (!all.length) return;
    at = Math.max(0, Math.min(i, all.length - 1));
    all.forEach((row, j) => row.classList.toggle("at", j === at));
    all[at].scrollIntoView({ block: "nearest" });
  }

  async function decide(row, decision) {
    const body = new URLSearchParams({ decision: decision, csrf: meta("form-token"), back: meta("back") });
    const response = await fetch("/decide/" + encodeURIComponent(row.dataset.run), {
      method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "same-origin",
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status !== 201) { status(`${row.dataset.run}: ${answer.detail || response.status}`); return; }
    status(`${row.dataset.run}: ${decision} (${answer.review_id}); the next run-all applies it`);
    row.remove();
    const total = document.getElementById("total");
    if (total) total.textContent = String(Math.max(0, Number(total.textContent) - 1));
    mark(at);
  }

  function onQueue(event) {
    const all = rows();
    if (!all.length) return;
    const row = all[at];
    if (event.key === "j") mark(at + 1);
    else if (event.key === "k") mark(at - 1);
    else if (event.key in decisions) decide(row, decisions[event.key]);
    else if (event.key === "e") window.location = row.dataset.href + "#editor";
    else if (event.key === "Enter") window.location = row.dataset.href;
    else return;
    event.preventDefault();
  }

  function openEditor() {
    const editor = document.getElementById("editor");
    if (!editor) return false;
    editor.open = true;
    const area = editor.querySelector("textarea");
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
    return true;
  }

  function onRun(event) {
    if (event.key in decisions) {
      const button = document.querySelector(`#decide button[data-key="${event.key}"]`);
      if (button) button.click();
    } else if (event.key === "e") openEditor();
    else return;
    event.preventDefault();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey && event.key === "Enter" && document.activeElement && document.activeElement.name === "edited_response") {
      document.querySelector('#decide button[value="edit"]').click();
      event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
    if (document.getElementById("decide")) onRun(event); else onQueue(event);
  });

  // Mouse decisions on the queue go the same way as the keyboard's.
  document.querySelectorAll("tr[data-run] form").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const row = form.closest("tr");
      at = rows().indexOf(row);
      decide(row, event.submitter.value);
    });
  });

  mark(0);
  if (window.location.hash === "#editor") openEditor();
})();
