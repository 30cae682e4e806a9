// Sizes, speeds and durations for people, and the speed of an upload as it goes.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

export function formatDuration(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

// The speed over the last few seconds: since the start it would count the parts a
// resumed upload found already stored, and hide a connection that has slowed down.
const WINDOW_MS = 5000;

export class SpeedMeter {
  #samples = [];

  /** Bytes per second, once two samples are far enough apart; null before. */
  add(bytesUploaded, now = Date.now()) {
    this.#samples.push({ now, bytesUploaded });
    while (this.#samples.length > 2 && now - this.#samples[1].now > WINDOW_MS) {
      this.#samples.shift();
    }
    const first = this.#samples[0];
    const seconds = (now - first.now) / 1000;
    return seconds >= 0.5 ? (bytesUploaded - first.bytesUploaded) / seconds : null;
  }
}
