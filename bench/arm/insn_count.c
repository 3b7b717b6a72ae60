/* A TCG plugin for qemu-user that counts the guest instructions a program executes.
 *
 *   qemu-aarch64 -plugin ./libinsn_count.so -d plugin -D count.log ./program args
 *
 * writes "insns: N" at exit (to the -D file; without -D to stderr). When a translation block is
 * translated, an inline add of its instruction count to one counter is attached to it, so every
 * execution of the block counts its instructions: exact for a single-threaded program (a block
 * left early by a fault or signal would still count whole). Debian's qemu-user loads plugins but
 * ships no <qemu-plugin.h>, so the few functions used are declared here, as in plugin API
 * version 1 (Debian 12's QEMU 7.2); a QEMU whose API has moved on refuses to load it.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb; /* opaque */
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*atexit_cb)(qemu_plugin_id_t id, void *userdata);
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

/* Provided by the qemu executable, which exports them to the plugin it dlopens. */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, atexit_cb cb, void *userdata);
void qemu_plugin_outs(const char *string);

/* The API version this plugin was written against; qemu refuses to load it when unsupported. */
EXPORT int qemu_plugin_version = 1;

static uint64_t insns;

/* At translation: every later execution of this block adds its length to the counter. */
static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns,
                                           qemu_plugin_tb_n_insns(tb));
}

static void on_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  char line[64];
  snprintf(line, sizeof line, "insns: %" PRIu64 "\n", insns);
  qemu_plugin_outs(line);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc, char **argv) {
  (void)info;
  (void)argv;
  if (argc != 0) {
    fprintf(stderr, "insn_count: takes no arguments\n");
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit, NULL);
  return 0;
}
