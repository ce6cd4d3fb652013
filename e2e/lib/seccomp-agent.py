#!/usr/bin/env python3
# A seccomp notify agent for the tests: seccomp-agent.py SOCKET STATE_FILE ERRNO
# Listens on SOCKET (AF_UNIX, SOCK_STREAM); for each runtime that connects, receives the container
# process state (JSON) with the listener fd (SCM_RIGHTS), appends the state to STATE_FILE (one JSON
# per line), and answers every notified syscall on that listener with -ERRNO
# (SECCOMP_IOCTL_NOTIF_RECV / SECCOMP_IOCTL_NOTIF_SEND). Prints "listening" once ready.
import fcntl, json, os, select, socket, struct, sys

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif) (80 bytes)
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp) (24 bytes)

path, state_file, err = sys.argv[1], sys.argv[2], int(sys.argv[3])
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
print("listening", flush=True)
listeners = []
while True:
    r, _, _ = select.select([srv] + listeners, [], [])
    for f in r:
        if f is srv:
            conn, _ = srv.accept()
            data = b""
            fds = []
            while True:
                msg, got, _, _ = socket.recv_fds(conn, 1 << 16, 4)
                fds += got
                if not msg:
                    break
                data += msg
                try:  # a complete state: done (runc keeps the connection open a while)
                    json.loads(data)
                    if fds:
                        break
                except ValueError:
                    pass
            conn.close()
            with open(state_file, "a") as out:
                out.write(data.decode() + "\n")
            listeners += fds
            continue
        buf = bytearray(80)
        try:
            fcntl.ioctl(f, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
        except OSError:
            # the notifying process is gone (ENOENT) or the filter's task exited
            listeners.remove(f)
            os.close(f)
            continue
        (nid,) = struct.unpack_from("<Q", buf, 0)
        resp = bytearray(struct.pack("<QqiI", nid, 0, -err, 0))
        try:
            fcntl.ioctl(f, SECCOMP_IOCTL_NOTIF_SEND, resp, True)
        except OSError:
            pass
