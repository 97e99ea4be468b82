// A windowed grid: only the rows in view (plus a little overscan) are in the DOM, so 25,000 cells
// scroll as smoothly as 25. Arrow keys, Page Up/Down, Home/End move the selection; Enter opens it.
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

interface Props {
  count: number;
  cellWidth: number;
  cellHeight: number;
  gap?: number;
  overscanRows?: number;
  selected: number | null;
  onSelect: (index: number) => void;
  onOpen?: (index: number) => void;
  onVisibleRange?: (first: number, last: number) => void;
  renderCell: (index: number, selected: boolean) => ReactNode;
  testId?: string;
}

export function VirtualGrid({ count, cellWidth, cellHeight, gap = 8, overscanRows = 3, selected, onSelect, onOpen, onVisibleRange, renderCell, testId }: Props) {
  const outer = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, width: 800, height: 600 });
  const frame = useRef(0);

  const measure = useCallback(() => {
    const el = outer.current;
    if (!el) return;
    setView((v) => (v.top === el.scrollTop && v.width === el.clientWidth && v.height === el.clientHeight ? v : { top: el.scrollTop, width: el.clientWidth, height: el.clientHeight }));
  }, []);

  useLayoutEffect(() => {
    measure();
    const el = outer.current;
    if (!el) return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [measure]);

  const onScroll = () => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(measure);
  };

  const cols = Math.max(1, Math.floor((view.width - 16 + gap) / (cellWidth + gap)));
  // Cells stretch so the columns fill the width; the height keeps the requested aspect.
  const cellW = Math.max(cellWidth, Math.floor((view.width - 16 + gap) / cols) - gap);
  const cellH = Math.round(cellHeight + (cellW - cellWidth));
  const rowH = cellH + gap;
  const rows = Math.ceil(count / cols);
  const firstRow = Math.max(0, Math.floor(view.top / rowH) - overscanRows);
  const lastRow = Math.min(rows - 1, Math.ceil((view.top + view.height) / rowH) + overscanRows);
  const first = firstRow * cols;
  const last = Math.min(count - 1, (lastRow + 1) * cols - 1);

  useEffect(() => {
    if (count > 0 && last >= first) onVisibleRange?.(first, last);
  }, [first, last, count, onVisibleRange]);

  const reveal = (index: number) => {
    const el = outer.current;
    if (!el) return;
    const top = Math.floor(index / cols) * rowH;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowH > el.scrollTop + el.clientHeight) el.scrollTop = top + rowH - el.clientHeight + gap;
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (count === 0) return;
    const cur = selected ?? -1;
    const pageRows = Math.max(1, Math.floor(view.height / rowH));
    let next: number | null = null;
    switch (e.key) {
      case 'ArrowRight': next = cur + 1; break;
      case 'ArrowLeft': next = cur - 1; break;
      case 'ArrowDown': next = cur < 0 ? 0 : cur + cols; break;
      case 'ArrowUp': next = cur - cols; break;
      case 'PageDown': next = cur + cols * pageRows; break;
      case 'PageUp': next = cur - cols * pageRows; break;
      case 'Home': next = 0; break;
      case 'End': next = count - 1; break;
      case 'Enter':
        if (selected !== null) onOpen?.(selected);
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    next = Math.min(count - 1, Math.max(0, next));
    onSelect(next);
    reveal(next);
  };

  const cells: ReactNode[] = [];
  for (let i = first; i <= last; i++) {
    const r = Math.floor(i / cols);
    const c = i % cols;
    cells.push(
      <div
        key={i}
        className={`vcell${selected === i ? ' selected' : ''}`}
        data-index={i}
        style={{ transform: `translate(${c * (cellW + gap)}px, ${r * rowH}px)`, width: cellW, height: cellH }}
        onClick={() => {
          onSelect(i);
          outer.current?.focus({ preventScroll: true });
        }}
        onDoubleClick={() => onOpen?.(i)}
      >
        {renderCell(i, selected === i)}
      </div>,
    );
  }

  return (
    <div
      ref={outer}
      className="vgrid"
      tabIndex={0}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
      data-testid={testId}
      data-count={count}
      data-rendered={cells.length}
      role="grid"
      aria-rowcount={rows}
    >
      <div className="vgrid-inner" style={{ height: rows * rowH }}>
        {cells}
      </div>
    </div>
  );
}
