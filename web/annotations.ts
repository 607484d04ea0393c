// The chart's annotations: a vertical mark at each change a load shape, the autoscaler or a CLI made (from GET
// /api/lab's `automation.annotations`), drawn by a uPlot plugin, and listed under the chart, newest first.
import type uPlot from 'uplot';
import type { Annotation } from '../src/telemetry.js';

let marks: Annotation[] = [];
let redraw: (() => void) | undefined;

const COLORS: Record<string, string> = { autoscaler: '#f5a623' };
const color = (by: string) => COLORS[by] ?? '#9b7bff';

export function setAnnotations(next: Annotation[]): void {
  if (next.length === marks.length && next.at(-1)?.at === marks.at(-1)?.at) return;
  marks = next;
  const list = document.getElementById('annotations');
  list?.replaceChildren(
    ...[...next].reverse().map((a) => {
      const li = document.createElement('li');
      li.textContent = `${new Date(a.at * 1000).toLocaleTimeString()} — ${a.by}: ${a.text}`;
      li.style.borderLeft = `3px solid ${color(a.by)}`;
      li.style.paddingLeft = '0.4em';
      return li;
    }),
  );
  redraw?.();
}

/** Draws every annotation inside the visible time range as a dashed vertical line. */
export function annotationsPlugin(): uPlot.Plugin {
  return {
    hooks: {
      init: (u) => {
        redraw = () => u.redraw(false);
      },
      draw: (u) => {
        const { ctx } = u;
        const { left, top, width, height } = u.bbox;
        const [min, max] = [u.scales.x!.min ?? 0, u.scales.x!.max ?? 0];
        ctx.save();
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
        for (const a of marks) {
          if (a.at < min || a.at > max) continue;
          const x = Math.round(u.valToPos(a.at, 'x', true));
          if (x < left || x > left + width) continue;
          ctx.strokeStyle = color(a.by);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
        }
        ctx.restore();
      },
    },
  };
}
