// The source viewer's behaviour, run once as the viewer component's js_on_load (Gradio provides
// `element`, `props` and `server`). Links with class sanad-open (citations [n], Sources entries,
// document names) carry a reference in their href, after "#sanad-source?"; one listener for the whole page catches them, so
// links in messages rendered later work too, and Enter on a focused link opens it like a click.
let opener = null;
let asked = 0;

const isOpen = () => Boolean(element.querySelector(".sanad-viewer"));
const afterPaint = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));

function setView(name) {
  const viewer = element.querySelector(".sanad-viewer");
  if (!viewer) return;
  viewer.dataset.view = name;
  for (const button of viewer.querySelectorAll("button[data-action=page], button[data-action=text]")) {
    button.setAttribute("aria-pressed", String(button.dataset.action === name));
  }
  const target = name === "page" ? viewer.querySelector(".sanad-box") : viewer.querySelector(".sanad-scroll-to, .sanad-cited");
  if (target) reveal(target);
}

// A PDF page fits the viewer's width at first: on a phone that is a third of its size, so + / − (or a
// tap on the page) widen it inside the figure, which then scrolls sideways; the boxes, placed in
// percent, grow with it.
const ZOOMS = [1, 1.5, 2, 3];

function zoom(level, focus) {
  const viewer = element.querySelector(".sanad-viewer");
  const figure = viewer?.querySelector(".sanad-page");
  const frame = figure?.querySelector(".sanad-page-frame");
  if (!frame) return;
  const next = Math.min(ZOOMS.length - 1, Math.max(0, level));
  const before = frame.getBoundingClientRect();
  viewer.dataset.zoom = String(next);
  frame.style.width = `${ZOOMS[next] * 100}%`;
  viewer.querySelector("button[data-action=zoom-out]").disabled = next === 0;
  viewer.querySelector("button[data-action=zoom-in]").disabled = next === ZOOMS.length - 1;
  if (!before.width) return;  // the text view is showing: nothing to keep in view
  const after = frame.getBoundingClientRect();
  const grow = after.width / before.width;
  const pane = element.closest("#sanad-viewer-column") || element;
  const paneTop = pane.getBoundingClientRect().top;
  if (focus) {  // the tapped point stays where it was tapped
    const fx = (focus.x - before.left) / before.width, fy = (focus.y - before.top) / before.height;
    figure.scrollLeft = fx * after.width - (focus.x - figure.getBoundingClientRect().left);
    pane.scrollTop += after.top + fy * after.height - focus.y;
    return;
  }
  // Else the first box: its line's start in view (the right edge for Arabic), a third down the pane.
  const box = viewer.querySelector(".sanad-box")?.getBoundingClientRect();
  if (!box) return;
  const rtl = getComputedStyle(viewer.querySelector(".sanad-doc p") || viewer).direction === "rtl";
  const left = (box.left - before.left) * grow, right = (box.right - before.left) * grow, margin = 12;
  figure.scrollLeft = right - left <= figure.clientWidth ? (left + right - figure.clientWidth) / 2
    : rtl ? right + margin - figure.clientWidth : left - margin;
  pane.scrollTop += after.top + (box.top - before.top) * grow - paneTop - pane.clientHeight / 3;
}

const zoomLevel = () => Number(element.querySelector(".sanad-viewer")?.dataset.zoom || 0);

// Scrolls the viewer alone (not the page behind it) so that target sits in its upper third.
function reveal(target) {
  const pane = element.closest("#sanad-viewer-column") || element;
  const bar = pane.querySelector(".sanad-viewer-bar");
  const offset = target.getBoundingClientRect().top - pane.getBoundingClientRect().top;
  pane.scrollTop += offset - (bar ? bar.offsetHeight : 0) - pane.clientHeight / 4;
}

async function open(reference, link) {
  const mine = ++asked;  // a slow answer to an earlier click must not replace a later one
  opener = link;
  element.setAttribute("aria-busy", "true");
  let html = "";
  try {
    html = await server.open_source(reference);
  } catch (error) {  // the server went away: nothing to show, and the chat stays usable
    console.error(error);
  }
  if (mine !== asked) return;
  props.value = html;
  await afterPaint();
  element.removeAttribute("aria-busy");
  const viewer = element.querySelector(".sanad-viewer");
  if (viewer) setView(viewer.dataset.view);
  if (viewer?.querySelector(".sanad-page-frame")) zoom(0);
  element.querySelector(".sanad-viewer-close")?.focus({ preventScroll: true });
}

function close() {
  asked++;
  props.value = "";
  if (opener && opener.isConnected) opener.focus();
  opener = null;
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a.sanad-open");
  if (link) {
    event.preventDefault();
    event.stopPropagation();
    const href = link.getAttribute("href") || "";
    open(href.slice(href.indexOf("?") + 1), link);
    return;
  }
  const page = event.target.closest(".sanad-viewer .sanad-page-frame");
  if (page) {  // a tap on the page zooms in there; on a zoomed page, back to the whole width
    zoom(zoomLevel() ? 0 : 2, { x: event.clientX, y: event.clientY });
    return;
  }
  const button = event.target.closest(".sanad-viewer button[data-action]");
  if (!button) return;
  const action = button.dataset.action;
  if (action === "close") close();
  else if (action === "zoom-in") zoom(zoomLevel() + 1);
  else if (action === "zoom-out") zoom(zoomLevel() - 1);
  else setView(action);
}, true);

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && isOpen()) close();
});
