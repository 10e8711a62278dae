/* Loading a network: pick the architecture named by general.architecture, let it read its
 * hyper-parameters and find its weights, and count what the file holds. */
#include "arch.h"

#include <string.h>

tm_status tm_net_load(const tm_gguf *g, const tm_kernels *kernels, tm_net **out, tm_err *err)
{
    tm_gguf_str arch_name;
    tm_status st = tm_gguf_get_str(g, "general.architecture", &arch_name, err);
    if (st != TM_OK)
        return st;
    char arch[64];
    if (arch_name.len >= sizeof arch)
        return tm_fail(err, TM_E_UNSUPPORTED, "architecture name of %llu bytes is not supported",
                       (unsigned long long)arch_name.len);
    memcpy(arch, arch_name.ptr, (size_t)arch_name.len);
    arch[arch_name.len] = '\0';
    const tm_arch *a = tm_arch_find(arch);
    if (!a)
        return tm_fail(err, TM_E_UNSUPPORTED, "architecture '%s' is not supported (supported: %s)",
                       arch, tm_arch_names());
    tm_net *net = tm_calloc(1, sizeof *net);
    if (!net)
        return tm_fail(err, TM_E_NOMEM, "network");
    st = a->load(g, kernels, net, err);
    if (st != TM_OK) {
        tm_net_free(net);
        return st;
    }
    for (int64_t i = 0; i < tm_gguf_n_tensors(g); i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(g, i);
        uint64_t n = 1;
        for (int d = 0; d < t->n_dims; d++)
            n *= (uint64_t)t->ne[d];
        net->n_params += n;
        net->weight_bytes += t->n_bytes;
    }
    *out = net;
    return TM_OK;
}

void tm_net_free(tm_net *net)
{
    if (!net)
        return;
    for (int32_t il = 0; net->layers && il < net->hp.n_layer; il++)
        tm_free(net->layers[il].exp_gate); /* one block holds the three expert arrays */
    tm_free(net->layers);
    tm_aligned_free(net->packed);
    tm_free(net);
}
