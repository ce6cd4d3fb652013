/* The sealed memfd the executor runs from (CVE-2019-5736): made by runts-spawn.node (spawn.c,
 * sealed()) before it starts the executor, or by the executor itself (main.c, ensure_sealed) when
 * it was started from a file. One definition of the seals for both. */
#ifndef RUNTS_SEALED_H
#define RUNTS_SEALED_H

#include <stddef.h>
#include <stdint.h>

/* the seals /proc/self/exe must have for the executor to run from it as it is */
#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* A close-on-exec memfd "runts-init" holding the whole of the file `src` (src >= 0) or the `len`
 * bytes at `bytes`, with REQUIRED_SEALS added: its fd, or -1 with errno (EIO: the file ended
 * early). */
int sealed_memfd(int src, const uint8_t *bytes, size_t len);

#endif
