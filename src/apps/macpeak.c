/* Prompt processing's limit (macpeak.h). The peak runs on every thread of a pool at once, as
 * the prompt products do, and the rates are added up: two cores each with a tile unit of
 * their own give twice one. */
#include "macpeak.h"

typedef struct peak_job {
    double (*fn)(void);
    double rate[256];
} peak_job;

static void peak_task(void *arg, int ith, int nth)
{
    peak_job *j = arg;
    (void)nth;
    j->rate[ith] = j->fn();
}

double tm_macpeak_measure(const tm_model *m, tm_pool *pool)
{
    int threads = tm_pool_size(pool);
    if (!m->kernels.mac_peak || threads > 256)
        return 0;
    peak_job j = {.fn = m->kernels.mac_peak};
    tm_pool_run(pool, peak_task, &j);
    double total = 0;
    for (int i = 0; i < threads; i++)
        total += j.rate[i];
    return total;
}

static double mat_macs(const tm_mat *w)
{
    return w->data ? (double)w->n_rows * (double)w->n_cols : 0;
}

double tm_prompt_macs_per_token(const tm_model *m, int64_t n)
{
    const tm_net *net = tm_model_net(m);
    const tm_hparams *hp = &net->hp;
    double total = 0;
    for (int32_t il = 0; il < hp->n_layer; il++) {
        const tm_layer *l = &net->layers[il];
        total += mat_macs(&l->wq) + mat_macs(&l->wk) + mat_macs(&l->wv) + mat_macs(&l->wo);
        total += mat_macs(&l->w_gate) + mat_macs(&l->w_up) + mat_macs(&l->w_gate_up) +
                 mat_macs(&l->w_down) + mat_macs(&l->sh_gate) + mat_macs(&l->sh_up) +
                 mat_macs(&l->sh_down);
        if (l->exp_gate) /* a token runs n_expert_used experts */
            total +=
                (double)hp->n_expert_used *
                (mat_macs(&l->exp_gate[0]) + mat_macs(&l->exp_up[0]) + mat_macs(&l->exp_down[0]));
        total += (double)hp->n_head * (double)(hp->head_dim + hp->head_dim_v) * (double)(n + 1) / 2;
    }
    return total;
}
