// Raw libc bindings (x86_64 Linux ABI) for the live backend, through koffi.
// Pointers into memory we own outside the JS heap (mmap) are passed as plain addresses
// (uintptr_t numbers); Node Buffers passed as `void *` are passed by address, without a copy.
import { createRequire } from 'node:module';
import { constants } from 'node:os';

const require = createRequire(import.meta.url);

// koffi is loaded lazily so that importing this module on a non-Linux host does not fail.
interface Koffi {
  load(name: string): { func(decl: string): (...args: unknown[]) => unknown };
  errno(): number;
}
let koffiMod: Koffi | null = null;
function koffi(): Koffi {
  koffiMod ??= require('koffi') as Koffi;
  return koffiMod;
}

// --- constants (include/uapi/linux/*.h, asm-generic/socket.h) ---
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const SOCK_STREAM = 1;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SOL_IP = 0;
export const SOL_TCP = 6;
export const SOL_IPV6 = 41;
export const SO_REUSEADDR = 2;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_LINGER = 13;
export const SO_SNDBUFFORCE = 32;
export const SO_MEMINFO = 55;
export const SO_ZEROCOPY = 60;
export const TCP_NODELAY = 1;
export const TCP_CORK = 3;
export const TCP_INFO = 11;
export const TCP_CONGESTION = 13;
export const IP_RECVERR = 11;
export const IPV6_RECVERR = 25;
export const SO_EE_ORIGIN_ZEROCOPY = 5;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_ERRQUEUE = 0x2000;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_MORE = 0x8000;
export const MSG_ZEROCOPY = 0x4000000;
export const SIOCOUTQ = 0x5411;
export const SIOCOUTQNSD = 0x894b;
export const CLONE_NEWNET = 0x40000000;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MADV_NOHUGEPAGE = 15;
export const MADV_POPULATE_WRITE = 23;
export const MFD_CLOEXEC = 1;
export const PAGE_SIZE = 4096;

const ERRNO_NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(constants.errno)) {
  if (!ERRNO_NAMES.has(num)) ERRNO_NAMES.set(num, name);
}
ERRNO_NAMES.set(11, 'EAGAIN'); // EWOULDBLOCK has the same number; the contract says EAGAIN
ERRNO_NAMES.set(95, 'EOPNOTSUPP');

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}

/** A failed libc call: the errno number and its name. */
export class SysError extends Error {
  constructor(readonly call: string, readonly errno: number) {
    super(`${call}: ${errnoName(errno)}`);
    this.name = 'SysError';
  }
  get code(): string {
    return errnoName(this.errno);
  }
}

type Fn = (...args: unknown[]) => number;

interface Libc {
  socket: Fn; bind: Fn; listen: Fn; accept4: Fn; connect: Fn; getsockname: Fn;
  setsockopt: Fn; getsockopt: Fn; sendmsg: Fn; recvmsg: Fn; recv: Fn; send: Fn; ioctl: Fn;
  sendfile: Fn; memfd_create: Fn; ftruncate: Fn; mmap: Fn; madvise: Fn; munmap: Fn;
  setns: Fn; close: Fn; memcpyIn: Fn; memcpyOut: Fn; read: Fn; write: Fn; fcntl: Fn;
}
let libc: Libc | null = null;

function lib(): Libc {
  if (libc) return libc;
  const l = koffi().load('libc.so.6');
  const f = (decl: string) => l.func(decl) as Fn;
  libc = {
    socket: f('int socket(int, int, int)'),
    bind: f('int bind(int, const void *, uint32_t)'),
    listen: f('int listen(int, int)'),
    accept4: f('int accept4(int, void *, void *, int)'),
    connect: f('int connect(int, const void *, uint32_t)'),
    getsockname: f('int getsockname(int, void *, void *)'),
    setsockopt: f('int setsockopt(int, int, int, const void *, uint32_t)'),
    getsockopt: f('int getsockopt(int, int, int, void *, void *)'),
    sendmsg: f('intptr_t sendmsg(int, uintptr_t, int)'),
    recvmsg: f('intptr_t recvmsg(int, uintptr_t, int)'),
    recv: f('intptr_t recv(int, void *, size_t, int)'),
    send: f('intptr_t send(int, const void *, size_t, int)'),
    ioctl: f('int ioctl(int, unsigned long, void *)'),
    sendfile: f('intptr_t sendfile(int, int, void *, size_t)'),
    memfd_create: f('int memfd_create(const char *, unsigned int)'),
    ftruncate: f('int ftruncate(int, int64_t)'),
    mmap: f('uintptr_t mmap(uintptr_t, size_t, int, int, int, int64_t)'),
    madvise: f('int madvise(uintptr_t, size_t, int)'),
    munmap: f('int munmap(uintptr_t, size_t)'),
    setns: f('int setns(int, int)'),
    close: f('int close(int)'),
    read: f('intptr_t read(int, void *, size_t)'),
    write: f('intptr_t write(int, const void *, size_t)'),
    fcntl: f('int fcntl(int, int, int)'),
    memcpyIn: f('uintptr_t memcpy(uintptr_t, const void *, size_t)'),
    memcpyOut: f('uintptr_t memcpy(void *, uintptr_t, size_t)'),
  };
  return libc;
}

/** Calls fn; a negative return becomes a SysError with errno. */
function check(name: string, ret: number): number {
  if (ret < 0) throw new SysError(name, koffi().errno());
  return ret;
}

/** Like check(), but returns the errno (as a negative number) instead of throwing. */
function orErrno(ret: number): number {
  return ret < 0 ? -koffi().errno() : ret;
}

// --- sockets ---

export function socket(family: number, type: number, protocol = 0): number {
  return check('socket', lib().socket(family, type | SOCK_CLOEXEC, protocol));
}

export function sockaddr(family: number, port: number): Buffer {
  if (family === AF_INET) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    b.set([127, 0, 0, 1], 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  b[8 + 15] = 1; // ::1
  return b;
}

export function bind(fd: number, addr: Buffer): void {
  check('bind', lib().bind(fd, addr, addr.length));
}
export function listen(fd: number, backlog: number): void {
  check('listen', lib().listen(fd, backlog));
}
export function accept(fd: number): number {
  return check('accept4', lib().accept4(fd, null, null, SOCK_CLOEXEC));
}
export function connect(fd: number, addr: Buffer): void {
  check('connect', lib().connect(fd, addr, addr.length));
}
/** connect(AF_UNSPEC): disconnects a TCP socket; returns 0 or -errno. */
export function disconnect(fd: number): number {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_UNSPEC, 0);
  return orErrno(lib().connect(fd, b, b.length));
}
/** Local port of a bound socket. */
export function localPort(fd: number): number {
  const b = Buffer.alloc(28);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(28, 0);
  check('getsockname', lib().getsockname(fd, b, len));
  return b.readUInt16BE(2);
}

export function setsockoptInt(fd: number, level: number, opt: number, value: number): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value, 0);
  check(`setsockopt(${level}, ${opt})`, lib().setsockopt(fd, level, opt, b, 4));
}
export function setsockoptBuf(fd: number, level: number, opt: number, value: Buffer): void {
  check(`setsockopt(${level}, ${opt})`, lib().setsockopt(fd, level, opt, value, value.length));
}
export function getsockoptBuf(fd: number, level: number, opt: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(size, 0);
  check(`getsockopt(${level}, ${opt})`, lib().getsockopt(fd, level, opt, b, len));
  return b.subarray(0, len.readUInt32LE(0));
}

export function ioctlInt(fd: number, request: number): number {
  const b = Buffer.alloc(4);
  check(`ioctl(${request.toString(16)})`, lib().ioctl(fd, request, b));
  return b.readInt32LE(0);
}

/** recv(); returns bytes read or -errno. */
export function recv(fd: number, buf: Buffer, len: number, flags: number): number {
  return orErrno(lib().recv(fd, buf, Math.min(len, buf.length), flags));
}

/** send(); returns bytes or -errno. */
export function send(fd: number, buf: Buffer, flags = 0): number {
  return orErrno(lib().send(fd, buf, buf.length, flags));
}

/** sendmsg() on a msghdr at a raw address; returns bytes or -errno. */
export function sendmsgRaw(fd: number, msghdr: number, flags: number): number {
  return orErrno(lib().sendmsg(fd, msghdr, flags));
}
export function recvmsgRaw(fd: number, msghdr: number, flags: number): number {
  return orErrno(lib().recvmsg(fd, msghdr, flags));
}

/** sendfile() from offset 0 of in_fd; returns bytes or -errno. */
export function sendfile(outFd: number, inFd: number, count: number): number {
  const off = Buffer.alloc(8);
  return orErrno(lib().sendfile(outFd, inFd, off, count));
}

/** sendfile() of `count` bytes from file offset `offset` of in_fd; returns bytes or -errno. */
export function sendfileAt(outFd: number, inFd: number, offset: number, count: number): number {
  const off = Buffer.alloc(8);
  off.writeBigInt64LE(BigInt(offset));
  return orErrno(lib().sendfile(outFd, inFd, off, count));
}

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/** Sets or clears O_NONBLOCK (sendfile() has no MSG_DONTWAIT). */
export function setNonBlocking(fd: number, on: boolean): void {
  const flags = check('fcntl', lib().fcntl(fd, F_GETFL, 0));
  check('fcntl', lib().fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK));
}

/** A memfd whose pages are really there (written), so each page has its own identity. */
export function filledMemfd(name: string, size: number): number {
  const fd = check('memfd_create', lib().memfd_create(name, MFD_CLOEXEC));
  const chunk = Buffer.alloc(1 << 20, 0x61);
  for (let done = 0; done < size; done += chunk.length) {
    check('write', lib().write(fd, chunk, Math.min(chunk.length, size - done)));
  }
  return fd;
}

export function memfd(name: string, size: number): number {
  const fd = check('memfd_create', lib().memfd_create(name, MFD_CLOEXEC));
  check('ftruncate', lib().ftruncate(fd, size));
  return fd;
}

export function close(fd: number): number {
  return orErrno(lib().close(fd));
}

export function setns(fd: number, nstype: number): void {
  check('setns', lib().setns(fd, nstype));
}

/** read(); returns bytes or -errno (for non-blocking trace_pipe reads). */
export function read(fd: number, buf: Buffer): number {
  return orErrno(lib().read(fd, buf, buf.length));
}

// --- raw memory ---

/**
 * A private anonymous mapping without huge pages (MAP_NORESERVE: address space only).
 * With `prefault`, every page is faulted in now (MADV_POPULATE_WRITE).
 */
export function mmapAnon(len: number, prefault = false): number {
  const addr = lib().mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (typeof addr !== 'number' || addr <= 0 || addr >= 2 ** 52) throw new SysError('mmap', koffi().errno());
  check('madvise(MADV_NOHUGEPAGE)', lib().madvise(addr, len, MADV_NOHUGEPAGE));
  if (prefault) madvise(addr, len, MADV_POPULATE_WRITE);
  return addr;
}
export function madvise(addr: number, len: number, advice: number): void {
  check(`madvise(${advice})`, lib().madvise(addr, len, advice));
}
export function munmap(addr: number, len: number): void {
  lib().munmap(addr, len);
}
export function poke(addr: number, data: Buffer): void {
  lib().memcpyIn(addr, data, data.length);
}
export function peek(addr: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  lib().memcpyOut(b, addr, len);
  return b;
}
