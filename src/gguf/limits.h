/* Limits the GGUF reader enforces beyond "fits in the file": real models are far inside
 * them, and each one stops a hostile file from making us loop or allocate without end. */
#ifndef TM_GGUF_LIMITS_H
#define TM_GGUF_LIMITS_H

#define TM_GGUF_MAX_NAME_BYTES  4096      /* a key or tensor name (ggml itself uses 64) */
#define TM_GGUF_MAX_ARRAY_DEPTH 8         /* arrays of arrays of ... (real files: 2) */
#define TM_GGUF_MAX_ALIGNMENT   (1 << 20) /* general.alignment */
#define TM_GGUF_MAX_KV          (1 << 20) /* metadata entries */
#define TM_GGUF_MAX_TENSORS     (1 << 22) /* tensor infos */

#endif
