// The Latent explorer's drawing canvas: draw with a mouse, a pen or a finger. Each finished stroke sends the whole
// drawing to Python as a PNG data URL (the state "drawing"; "" once cleared). Streamlit calls this function again on
// every rerun; the pad lives on the element, so the drawing stays.
const SIZE = 280;

function element(parent, tag, className, text) {
  const node = parent.appendChild(document.createElement(tag));
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

class Pad {
  constructor(parent, setStateValue) {
    this.setStateValue = setStateValue;
    this.root = element(parent, "div", "gs-draw");
    this.canvas = element(this.root, "canvas", "gs-draw-canvas");
    this.canvas.width = this.canvas.height = SIZE;
    this.canvas.setAttribute("aria-label", "Drawing canvas");
    this.context = this.canvas.getContext("2d");
    this.tools = element(this.root, "div", "gs-draw-tools");
    this.inks = element(this.tools, "div", "gs-draw-inks");
    const clear = element(this.tools, "button", "gs-draw-clear", "Clear");
    clear.type = "button";
    clear.onclick = () => this.clear(true);
    this.canvas.addEventListener("pointerdown", (event) => this.down(event));
    this.canvas.addEventListener("pointermove", (event) => this.move(event));
    for (const name of ["pointerup", "pointercancel"]) this.canvas.addEventListener(name, () => this.up());
  }

  configure(data) {
    this.pen = data.pen;
    if (this.paper !== data.paper) {
      this.paper = data.paper;
      this.clear(false);
    }
    if (this.inkList !== data.inks.join()) {
      this.inkList = data.inks.join();
      this.inks.replaceChildren();
      for (const ink of data.inks) {
        const swatch = element(this.inks, "button", "gs-draw-ink");
        swatch.type = "button";
        swatch.style.background = ink;
        swatch.title = `Ink ${ink}`;
        swatch.onclick = () => this.choose(ink, swatch);
      }
      this.choose(data.inks[0], this.inks.firstChild);
    }
  }

  choose(ink, swatch) {
    this.ink = ink;
    for (const other of this.inks.children) other.classList.toggle("gs-draw-chosen", other === swatch);
  }

  point(event) {
    const box = this.canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * SIZE / box.width, (event.clientY - box.top) * SIZE / box.height];
  }

  down(event) {
    this.canvas.setPointerCapture(event.pointerId);
    this.last = this.point(event);
    this.stroke(this.last, this.last);
  }

  move(event) {
    if (!this.last) return;
    const next = this.point(event);
    this.stroke(this.last, next);
    this.last = next;
  }

  up() {
    if (!this.last) return;
    this.last = null;
    this.setStateValue("drawing", this.canvas.toDataURL("image/png"));
  }

  stroke(from, to) {
    const context = this.context;
    context.strokeStyle = this.ink;
    context.lineWidth = this.pen;
    context.lineCap = context.lineJoin = "round";
    context.beginPath();
    context.moveTo(from[0], from[1]);
    context.lineTo(to[0], to[1]);
    context.stroke();
  }

  clear(send) {
    this.context.fillStyle = this.paper;
    this.context.fillRect(0, 0, SIZE, SIZE);
    if (send) this.setStateValue("drawing", "");
  }
}

export default function (component) {
  const {data, parentElement, setStateValue} = component;
  if (!parentElement.ganStudioPad) parentElement.ganStudioPad = new Pad(parentElement, setStateValue);
  parentElement.ganStudioPad.configure(data);
}
