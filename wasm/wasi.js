// The WASI preview 1 imports the mpnet module (a Go wasip1 reactor) needs,
// and nothing more: no arguments, no environment, no files; stdin empty,
// stdout dropped, stderr kept line by line; clocks, randomness, and
// poll_oneoff for the clock (Go's sleep) as a busy wait.
//
// Written here rather than taken from a general WASI shim because the page
// runtime runs it in the page's world: every access to the module's memory
// goes through built-ins captured at document start (extension/src/page/
// intrinsics.js), so a page that replaces DataView.prototype.setUint32,
// WebAssembly.Memory.prototype.buffer or Uint8Array.prototype.set is never
// handed a view of the module's memory (through which it could rewrite the
// configuration). The objects here have null prototypes.

import {
  WebAssemblyMemoryGetBuffer, SafeDataView, ReflectConstruct, DataViewPrototypeGetUint32, DataViewPrototypeSetUint32,
  DataViewPrototypeSetUint16, DataViewPrototypeSetUint8, DataViewPrototypeSetBigUint64, DataViewPrototypeGetBigUint64,
  u8, u8Copy, u8Sub, SafeBigInt, MathRound, DateNow, TextDecoderPrototypeDecode, SafeTextDecoder, list, ArrayPrototypePush,
  StringPrototypeIndexOf, StringPrototypeSlice, SafeError,
} from "../extension/src/page/intrinsics.js";

const SUCCESS = 0, BADF = 8, INVAL = 28, NOTSUP = 58;
const CLOCK_REALTIME = 0n, CLOCK_MONOTONIC = 1n;
const FILETYPE_REGULAR_FILE = 4, FILETYPE_CHARACTER_DEVICE = 2;

const now = performance.now.bind(performance);
const getRandomValues = crypto.getRandomValues.bind(crypto);
const dec = new SafeTextDecoder();

/** ProcExit is thrown by proc_exit. */
export class ProcExit extends SafeError {
  constructor(code) {
    super("exit with exit code " + code);
    this.code = code;
  }
}

/**
 * makeWASI answers {imports, initialize(exports), stderr}: imports for
 * WebAssembly.instantiate ({wasi_snapshot_preview1}), initialize to call
 * once with the instance's exports, and the stderr lines (at most maxLines).
 */
export function makeWASI(maxLines) {
  const stderr = list();
  let memory = null;
  let line = "";
  const view = () => new SafeDataView(WebAssemblyMemoryGetBuffer(memory));
  const bytes = () => u8(WebAssemblyMemoryGetBuffer(memory));
  const time = (id) => {
    if (id === CLOCK_REALTIME) return SafeBigInt(DateNow()) * 1000000n;
    if (id === CLOCK_MONOTONIC) return SafeBigInt(MathRound(now() * 1e6));
    return -1n;
  };
  const keep = (text) => {
    line += text;
    for (let i = StringPrototypeIndexOf(line, "\n"); i >= 0; i = StringPrototypeIndexOf(line, "\n")) {
      if (stderr.length < maxLines) ArrayPrototypePush(stderr, StringPrototypeSlice(line, 0, i));
      line = StringPrototypeSlice(line, i + 1);
    }
    if (line.length > 4096) line = StringPrototypeSlice(line, 0, 4096);
  };
  const wasi = {
    __proto__: null,
    args_sizes_get(argc, size) { const v = view(); DataViewPrototypeSetUint32(v, argc, 0, true); DataViewPrototypeSetUint32(v, size, 0, true); return SUCCESS; },
    args_get() { return SUCCESS; },
    environ_sizes_get(count, size) { const v = view(); DataViewPrototypeSetUint32(v, count, 0, true); DataViewPrototypeSetUint32(v, size, 0, true); return SUCCESS; },
    environ_get() { return SUCCESS; },
    clock_time_get(id, precision, out) {
      const t = time(SafeBigInt(id));
      if (t < 0n) return INVAL;
      DataViewPrototypeSetBigUint64(view(), out, t, true);
      return SUCCESS;
    },
    random_get(buf, len) {
      const b = bytes();
      // getRandomValues fills at most 65536 bytes at a time, and not a view
      // of a shared memory; a copy goes in.
      for (let i = 0; i < len; i += 65536) {
        const n = len - i < 65536 ? len - i : 65536;
        const r = u8(n);
        getRandomValues(r);
        for (let j = 0; j < n; j++) b[buf + i + j] = r[j];
      }
      return SUCCESS;
    },
    fd_write(fd, iovs, n, written) {
      if (fd !== 1 && fd !== 2) return BADF;
      const v = view();
      const b = bytes();
      let total = 0;
      for (let i = 0; i < n; i++) {
        const ptr = DataViewPrototypeGetUint32(v, iovs + 8 * i, true);
        const len = DataViewPrototypeGetUint32(v, iovs + 8 * i + 4, true);
        if (fd === 2) keep(TextDecoderPrototypeDecode(dec, u8Copy(b, ptr, ptr + len), { __proto__: null, stream: true }));
        total += len;
      }
      DataViewPrototypeSetUint32(v, written, total, true);
      return SUCCESS;
    },
    fd_read(fd, iovs, n, read) {
      if (fd !== 0) return BADF;
      DataViewPrototypeSetUint32(view(), read, 0, true); // stdin is empty
      return SUCCESS;
    },
    fd_close(fd) { return fd <= 2 ? SUCCESS : BADF; },
    fd_fdstat_get(fd, out) {
      if (fd > 2) return BADF;
      const v = view();
      DataViewPrototypeSetUint8(v, out, fd === 0 ? FILETYPE_REGULAR_FILE : FILETYPE_CHARACTER_DEVICE);
      DataViewPrototypeSetUint16(v, out + 2, 0, true);
      DataViewPrototypeSetBigUint64(v, out + 8, fd === 0 ? 0n : 1n, true);
      DataViewPrototypeSetBigUint64(v, out + 16, 0n, true);
      return SUCCESS;
    },
    fd_fdstat_set_flags() { return NOTSUP; },
    fd_prestat_get(fd) { return fd <= 2 ? NOTSUP : BADF; },
    fd_prestat_dir_name() { return BADF; },
    path_open() { return BADF; },
    path_filestat_get() { return BADF; },
    poll_oneoff(inPtr, outPtr, count, nevents) {
      // One clock subscription (Go's sleep): waited out here, as a reactor
      // cannot yield.
      if (count !== 1) return count === 0 ? INVAL : NOTSUP;
      const v = view();
      const userdata = DataViewPrototypeGetBigUint64(v, inPtr, true);
      const type = u8Sub(bytes(), inPtr + 8, inPtr + 9)[0];
      if (type !== 0) return NOTSUP;
      const clock = SafeBigInt(DataViewPrototypeGetUint32(v, inPtr + 16, true));
      const timeout = DataViewPrototypeGetBigUint64(v, inPtr + 24, true);
      const abs = (u8Sub(bytes(), inPtr + 40, inPtr + 41)[0] & 1) !== 0; // subscription_clock.flags
      const start = time(clock);
      if (start < 0n) return INVAL;
      const end = abs ? timeout : start + timeout;
      while (time(clock) < end) { /* wait */ }
      const w = view();
      DataViewPrototypeSetBigUint64(w, outPtr, userdata, true);
      DataViewPrototypeSetUint16(w, outPtr + 8, SUCCESS, true);
      DataViewPrototypeSetUint8(w, outPtr + 10, 0);
      DataViewPrototypeSetUint32(w, nevents, 1, true);
      return SUCCESS;
    },
    proc_exit(code) { throw new ProcExit(code); },
    sched_yield() { return SUCCESS; },
  };
  return {
    __proto__: null,
    imports: { __proto__: null, wasi_snapshot_preview1: wasi },
    stderr,
    initialize(exports) {
      memory = exports.memory;
      if (typeof exports._initialize === "function") exports._initialize();
    },
  };
}
