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
  const button = event.target.closest(".sanad-viewer button[data-action]");
  if (!button) return;
  if (button.dataset.action === "close") close();
  else setView(button.dataset.action);
}, true);

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && isOpen()) close();
});
