"""English: every text id's words (`yoloslim.text`)."""

ADVICE_EN = (
    "Sparse-train longer (sparse.epochs) or with a larger sparse.sl, and keep sparse.l1: after_clip so that "
    "gradient clipping does not dilute the L1 term; gamma_log.csv's l1_budget (sum of lr * sl) should reach "
    "the order of 1, since gammas start at 1.0."
)

EN: dict[str, str] = {
    # the report's headings and explanations without values (notebooks/07_report.py shows them by id)
    "s1_preparation": "## 1 Preparation\n\n### 1.1 Environment",
    "s1_2_data": "### 1.2 Data set\n\nData set tree (images per category and source):",
    "samples_intro": "Sample images:",
    "s2_pruning": "## 2 Pruning",
    "s2_1_sparse": "### 2.1 Sparse training",
    "gamma_fractions_intro": "Fraction of gammas under each absolute threshold, per epoch of sparse training:",
    "s2_2_pruning": "### 2.2 Pruning\n\n#### 2.2.1 Sparsity distribution",
    "s2_2_2_ratio": "#### 2.2.2 Pruning ratio\n\nPruned fraction of channels and parameters per part. Uniform-width "
    "baselines are compared with the base model's channels and parameters.",
    "s2_3_finetune": "### 2.3 Fine-tuning: validation set",
    "convergence_intro": "Fine-tuning convergence (validation mmAP per epoch, Ultralytics' val over all detections, "
    "conf 0.001):",
    "s2_4_results": "### 2.4 Results\n\n#### 2.4.1 Test set",
    "s2_4_2_size": "#### 2.4.2 Size, parameters, speed and FLOPs",
    "operators_unprofiled": "unprofiled (ms)",
    "operators_intro": "Where ONNX Runtime's CPU time goes (ms per inference, from its profiler): the convolutions "
    "shrink with the channels; concatenations, splits, resizes, the Detect head's reshapes and the time between "
    "operators shrink less, which is why latency falls less than FLOPs. The profiler itself adds time: the profiled "
    'total is more than the latency measured without it (last column, interleaved), and "between operators" (the '
    "profiled run's time no kernel accounts for) includes that overhead, so its share is an upper bound.",
    "decode_intro": "Decode rate per class on the test set, for the code classes and the symbology each must decode "
    "as ({classes}): decoded codes / ground-truth codes (`/ gt`), and / codes that decode when cropped at their own "
    "ground-truth box (`/ decodable`, the data's ceiling):",
    "decode_intro_detections": "Decode rate per class on the test set, for the code classes and the symbology each "
    "must decode as ({classes}): the share of detections whose crop decodes as its class's symbology "
    "(`/ detections`); the data set has no payload ground truth, so decoded codes are not matched to true codes:",
    "tradeoff_intro": "Accuracy against latency and FLOPs; the line joins the Pareto front.",
    "s3_summary": "## 3 Summary",
    # sentences with values, table and axis labels
    "title": "Network slimming report: {name}",
    "intro": "Every number below is read from the study's results files under `{run}`.",
    "config_used": "Configuration `{name}` (hash `{digest}`), resolved with all defaults:",
    "split": "Split per source, train:val:test = {ratio}:",
    "split_given": "The data set's own splits ({source} `{where}`), used as they are (not re-split): train {train:,}, "
    "val {val:,} and test {test:,} images:",
    "no_test_split": "**The data set has no test split**: nothing was measured on a test split, and the tables and "
    "the summary below are on val, the split the fine-tunes chose their best epochs on.",
    "no_variants": "This study has no uniform-width baselines (`train.variants: []`): the pruned models are "
    "compared with the base model and with each other only.",
    "base_from_weights": "The base model is the checkpoint `{weights}` ({epochs} epochs as it says), evaluated as it "
    "is, not retrained here; sparse training starts from it.",
    "instances_many": "{boxes:,} boxes of {classes} classes, the fewest in {fewest}",
    "data_summary": "{images} images ({background} without labels), {skipped} skipped, {problems} problems; "
    "instances: {instances}. In the test split: {test_instances}.",
    "data_test_only": "The test split adds {count:,} test-only images (`test_only` in the table), rendered with a "
    "seed of their own ({seed}) in the same proportions, so every class has enough test instances for the "
    "intervals; the train:val:test split of the {images:,} images stays as configured.",
    "s2_intro": "Base model `{model}` at {imgsz} px. mAP = mAP@0.5, mmAP = mAP@0.5:0.95; the deployment "
    "threshold is conf {conf}. Every table says which confidence it uses. Model labels follow the original study: "
    "`sl` is the sparse-trained model before pruning; `nas_<t>(<name>)` the model pruned at the |gamma| threshold "
    "`t` and fine-tuned (network slimming), `frac_`, `lat_` and `flops_` the same pruned to a fraction of the "
    "channels, to a latency budget or to a FLOPs budget (the lowest threshold within it; `0.1x`: a tenth of the base "
    "model's); `random_` the same structure with its channels chosen at random.",
    "acc_standard": "Accuracy over all detections (conf 0.001, the standard metric).",
    "interval_note": "[lo,hi] is the 95 % interval from {draws:,} bootstrap resamples of the images (and of the "
    "trainings where measured: see the summary).",
    "acc_operating": "At the deployment threshold conf {conf:g}: precision, recall and F1 of the detections "
    "scoring at least {conf:g} (IoU 0.5).",
    "precision_undefined": "— for P: no detection of that class scored at least {conf:g}, so its precision is "
    "undefined (NaN in accuracy.csv, not 0), its F1 is 0, and `all` averages the classes that have a precision.",
    "acc_original": "The original study's metric, mAP at conf {conf:g}: average precision of only the "
    "detections scoring at least {conf:g}, so the precision-recall curve stops at the recall that conf "
    "reaches (Ultralytics' `val(conf={conf:g})`).",
    "sparse_text": "L1 on BatchNorm gammas with sl = {sl} ({schedule}, placed `{l1}`) for {epochs} epochs, "
    "the last {recover} of them without L1 (recovery); the mean sparsity loss of the last penalized epoch is "
    "{sl_mloss}. Val mmAP {base} (base) → {sparse} (sparse).",
    "budget_text": "L1 budget: {steps} optimizer steps applied the term, Σ lr·sl = {budget}: how far the L1 "
    "term alone moves a gamma (gammas start at 1.0; SGD momentum stretches `after_clip` steps about "
    "{stretch:.0f}-fold). For comparison, `params/seed.yaml` (the original study) plans {seed_steps} steps and "
    "Σ lr·sl = {seed_budget} on the original data set's {seed_images} training images (computed from its "
    "settings).",
    "stop_reached": "Sparsity target: the L1 term was switched off for good at optimizer step {step} (epoch "
    "{epoch}), when {fraction} of the gammas were under {under}; the remaining steps let the detector recover.",
    "stop_missed": "Sparsity target ({fraction} of the gammas under {under}) not reached: the L1 term stayed "
    "on for the whole run.",
    "prune_text": "**{label}**: {policy} {value}, channels aligned {round_dir} to {round_to}. Params "
    "{params_before} → {params_after}, GFLOPs {gflops_before} → {gflops_after}. Alignment restored "
    "{restored} and removed {removed} channels. Val mAP50 right after pruning (conf 0.001): {fold50} with "
    "beta folded ({kept_share} of the sparse model's {sparse50}), {nofold50} without; mmAP {fold} and "
    "{nofold}.",
    "unpruned": "Groups left unpruned: {groups}.",
    "unpruned_group": "{layers} ({reasons})",
    "search_text": "Pruned to a latency budget of {budget} on `{engine}`: {candidates} structures timed (each with "
    "the base model), and the largest within the budget kept: threshold {threshold}, {gflops} GFLOPs, "
    "{latency} ms, {ratio}× the base model (budget {outcome}). {message}",
    "budget_borderline": "Borderline against the budget (a re-measurement may fall on either side): {models}.",
    "budget_note": "Budget: {budget} on `{engine}` (✓ within: the upper end of the latency's 95 % interval is "
    "under it; ≈ borderline: the budget lies inside the interval; ✗ over: its lower end is over it).",
    "budget_relative": "{factor:g}× the base model's latency ({ms} ms)",
    "decode_ceiling": "Ceilings (ground-truth codes that decode from their own box): {ceilings}.",
    "decode_ceiling_low": "The ceiling of {classes} is under {floor:.0%}: many of these codes do not decode even "
    "from their exact box (too small, blurred or rotated for zxing-cpp at the images' resolution), so a low "
    "decode rate there says more about the images than about the models. Decode rates mean most when images "
    "are captured, or rendered, at a resolution where codes read; the detector can still run at a smaller size.",
    "not_measured": "Not measured on this machine: {what}.",
    "missing": "(not produced: `{path}`)",
    "budget": "budget",
    "flops_ratio": "GFLOPs ÷ base",
    "interleaved_note": "Latency on each engine with every model in one process, interleaved: {runs} rounds, "
    "each running every model once in a random order. Median ms and the median of the per-round ratio to the "
    "base model, with 95 % intervals.",
    "interleaved_processes": "Measured in {n} fresh processes one after another: each value is the geometric mean of "
    "the processes' medians, and its interval the 95 % prediction interval of the median another process would "
    "measure (Student's t over the processes' logarithms: a process's state scales all its timings). The budget marks "
    "use these intervals; the ratios, paired round by round, vary far less between processes than the milliseconds.",
    "interleaved_one": "Measured in one process, with the intervals a bootstrap over its rounds: they do not cover a "
    "re-measurement in another process, which can differ by more (`eval.processes` measures in several).",
    "latency_ratio": "{engine} ÷ base",
    "epochs_to_90": "epochs to 90% of final mmAP",
    "final": "final mmAP",
    "latency_axis": "latency on {engine} (ms)",
    "gflops_axis": "GFLOPs",
    "accuracy_axis": "test mmAP (all classes)",
    "epoch_axis": "epoch",
    # section 3, the summary (yoloslim.report.summary)
    "budget_met": "**{n} of {total}** models meet the budget of {label} on `{engine}`: {models}. "
    "The most accurate of them is **{best}** ({split} mmAP {acc:.3f}, {latency:.2f} ms).",
    "budget_none": "**No model meets** the budget of {label} on `{engine}`. The fastest, **{fast}**, "
    "takes {latency:.2f} ms, {factor:.1f}× the budget ({split} mmAP {acc:.3f}).",
    "budget_unmeasured": "The budget engine `{engine}` was not measured on this machine, so no model can "
    "be judged against the budget of {label}.",
    "cost": "Accuracy cost of **{model}** against the base ({split} mmAP per class, model − base: a negative value is "
    "a loss): {costs}.",
    "cost_most": "Accuracy cost of **{model}** against the base ({split} mmAP, model − base: of all classes, then "
    "of the {shown} of its {total} classes that lost most): {costs}.",
    "collapsed": "**Collapsed classes** (a class's recall at conf {conf:g} fell more than its model's average "
    "recall, by more than {margin:g}; within noise where the 95 % interval of that excess reaches down to "
    "{margin:g}): {items}.",
    "no_collapse": "No class collapsed: no class's recall at conf {conf:g} fell more than its model's average "
    "recall by more than {margin:g}.",
    "convergence": "Fine-tuning convergence: the pruned models fine-tuned {epochs} epochs reached 90% of their final "
    "val mmAP after {pruned:.1f} epochs on average, the uniform baselines after {variants:.1f} ({verdict}).",
    "target_epochs": "Fine-tuned for its own number of epochs (the others: {epochs}; `finetune.target_epochs`): "
    "{models} epochs (its random control and seeded runs too, where the study has them); its accuracy holds that "
    "training.",
    "more_training": "Above the base model, with more training behind them: {models}. A pruned model inherits the "
    "base model's training ({base}) and trains on (sparse training, then its fine-tune), so part of what it gains "
    "may be training the base model did not get: a base model trained as long (`train.epochs`) tells pruning from "
    "training.",
    "more_training_model": "**{label}** {diff:+.3f} {split} mmAP after {extra} more epochs",
    "base_epochs": "{epochs} epochs",
    "still_rising": "Still improving when the fine-tune ended (val mmAP, the mean of its last sixth of epochs against "
    "the sixth before, up by more than twice its standard error): {models}. More fine-tune epochs are the first thing "
    "to try for what pruning cost: `finetune.epochs`, or `finetune.target_epochs` for one model.",
    "still_rising_model": "**{label}** {before:.3f} → {last:.3f} (windows of {n} epochs)",
    "base_given": "the checkpoint's own",
    "slower": "pruned models converged more slowly",
    "faster": "pruned models converged faster",
    "same": "about as fast: within {margin:.0f} epochs, a tenth of the fine-tune",
    "next_imgsz": "Next: a lower input size pays off: **{variant}** at {imgsz} px runs at {latency:.2f} ms "
    "against {full:.2f} ms for **{same}** at full size; prune at the lower size and judge by mAP.",
    "next_prune": "Next: prune harder. The budget needs a {factor:.1f}× speed-up over the fastest model; "
    "raise the largest threshold above {value:g}, or use `prune.policy: fraction` with a larger fraction.",
    "next_engine": "Latency and FLOPs disagree here (the fewest FLOPs: **{flops}**; the fastest: **{fast}**): "
    "measure on the target engine before choosing.",
    "next_search": "The search for **{label}** found no structure within {budget}: the fastest (|gamma| < "
    "{threshold:.4g}, {gflops:.3g} GFLOPs) takes {latency:.3g} ms, {ratio:.2f}× the base model. A smaller "
    "`train.imgsz` or a narrower base model is next.",
    "random": "Selection by |gamma| against the random-selection control (the same channel count in every "
    "layer, channels chosen at random, fine-tuned the same way): **{gamma_label}** {split} mmAP {gamma:.3f}, "
    "**{random_label}** {random:.3f} ({diff:+.3f}): {verdict}.",
    "random_won": "selection by gamma beat random selection",
    "scratch": "Inherited weights against the same structure re-initialized (Liu et al., ICLR 2019), trained "
    "{epochs} epochs (the fine-tune: {inherit_epochs}): **{gamma_label}** {split} mmAP {gamma:.3f}, "
    "**{random_label}** {random:.3f} ({diff:+.3f}): {verdict}.",
    "scratch_won": "inheriting the pruned weights beat training the structure from scratch",
    "scratch_lost": "inheriting the pruned weights did **not** beat training the structure from scratch",
    "alternative": "Selection by |gamma| against Torch-Pruning's `{method}` pruner at the same cost ({cost}), "
    "fine-tuned the same way: **{gamma_label}** {split} mmAP {gamma:.3f}, **{random_label}** {random:.3f} "
    "({diff:+.3f}): {verdict}.",
    "alternative_won": "network slimming beat it",
    "pareto": "On the {split} accuracy-latency Pareto front (no other model both faster and more accurate), "
    "fastest first: {on}. Off it: {off}.",
    "pareto_off": "{label} (beaten by {by})",
    "pareto_all": "none of the compressed models",
    "alternative_lost": "Torch-Pruning's pruner beat network slimming",
    "alternative_unmatched": " Not at equal cost: {message}.",
    "random_noise": "the difference is **within noise** (95 % interval {lo:+.3f} to {hi:+.3f}, adjusted p {p:.2f})",
    "interval": " (95 % interval {lo:+.3f} to {hi:+.3f}, adjusted p {p:.3f})",
    "budget_tied": " It leads only **within noise** (so no winner among them): {tied}.",
    "budget_tie": "{label} by {diff:+.3f} (95 % interval {lo:+.3f} to {hi:+.3f}, adjusted p {p:.2f})",
    "budget_beat_all": " It beat every other model within the budget (each difference's interval excludes 0).",
    "pareto_tied": " Behind a faster model only within noise, so not off it: {tied}.",
    "pareto_tie": "{label} (behind {by} by {diff:.3f}, 95 % interval {lo:+.3f} to {hi:+.3f}, adjusted p {p:.2f})",
    "intervals_images": "The accuracy intervals resample the test images only: each model was trained once, and the "
    "spread between trainings is **not** in them (`finetune.seeds: 1`).",
    "intervals_component": "The accuracy intervals include the spread between trainings, measured: {runs} (all-class "
    "mmAP of each of {k} fine-tunes with their own seeds{redrawn}). Each "
    "bootstrap draw takes one of such a model's runs, then resamples the images; the models trained once add "
    "{component}. Base and sparse training ran once: the spread of the structures they lead to is in no interval.",
    "intervals_redrawn": "; a random control also drew its channels again each time",
    "intervals_spread": "the measured between-run standard deviation ({spread:.3f} all-class mmAP) as a variance "
    "component (random controls left out of it: their runs also drew their channels again)",
    "intervals_no_spread": "no component: only random controls were fine-tuned more than once, and their runs also "
    "drew their channels again, a spread the models trained once do not have",
    "intervals_holm": ' A verdict ("beat", "off the front") needs its difference\'s 95 % interval to exclude 0 and '
    "its p-value (from the bootstrap's standard error) under {alpha} after Holm's adjustment over every difference "
    "this summary judges; otherwise it says within noise.",
    "noise": " (within noise)",
    "random_lost": "selection by gamma did **not** beat random selection; here the gammas did not single out "
    "the channels the detector needs",
    "not_sparse": "**{label}** — {warning}",
    "cost_latency": "{ratio:.2f}x the base model's latency, budget {budget}",
    "cost_flops": "{gflops:.3g} against {target_gflops:.3g} GFLOPs",
    "matched_flops": "global channel ratio {ratio:.3g}, at the GFLOPs of {target}'s model ({value})",
    "matched_latency": "global channel ratio {ratio:.3g}, at the largest structure within ({value})",
    "search_met": "met",
    "search_missed": "missed",
    "ratio_to_base": "÷ base",
    "operators_other": "other",
    "between_operators": "between operators",
    "operators_total": "total",
    "value": "value",
    "steps": "steps",
    "kind": "kind",
    "epochs": "epochs",
    "pareto_legend": "Pareto",
    # the answer page, first in the report (yoloslim.report.answer)
    "s0_answer": "## The answer",
    "answer_intro": "The latency budget is {budget} on `{engine}`: met when the upper end of a model's latency "
    "interval is within it, not met when the lower end is over it, borderline otherwise. Accuracy: {split} mAP50-95 "
    "[95 % interval].",
    "answer_met": "met",
    "answer_borderline": "borderline",
    "answer_not_met": "not met",
    "answer_unmeasured": "not measured",
    # the Pareto front per engine (yoloslim.report.data.engine_points)
    "engine_fronts_intro": "Accuracy against latency on each engine, as the model ships there: on an INT8 engine, the "
    "INT8 model's own {split} mmAP (without an interval). The dashed line joins each engine's Pareto front.",
    "fronts": "The Pareto front on each engine ({split} mmAP; on an INT8 engine the INT8 models' own), fastest "
    "first: {fronts}.",
    "front_engine": "`{engine}`: {models}",
    # the fine-tune recipes of finetune.compare at equal cost (yoloslim.report.recipes)
    "recipes_intro": "Fine-tune recipes at equal cost ({split} set). Today's recipe; the same trained longer, for as "
    "many more epochs as a distilled step costs; and distillation from the unpruned {teacher} model (Ultralytics' "
    "feature distillation, weight {weight:g}). Seconds per step are measured alone, one batch of {batch}, plain and "
    "distilled steps alternating in one process (data loading left out); the cost is seconds per step × batches × "
    "epochs. Differences are paired by image (95 % interval).",
    "recipe_column": "recipe",
    "recipe_recipe": "today's recipe",
    "recipe_longer": "longer, no teacher",
    "recipe_distill": "distilled from {teacher}",
    "step_ms": "ms / step",
    "cost_min": "cost (min)",
    "vs_recipe": "− today's recipe",
    "model": "model",
    "recipes": "Fine-tune recipes for **{label}** at equal cost ({split} mmAP): today's recipe ({epochs} epochs) "
    "scored {against:+.3f} against the base model; training longer ({longer_epochs} epochs: a distilled step costs "
    "{ratio:.2f}× a plain one) added {longer_back:+.3f} to it, distillation from the {teacher} model "
    "{distill_back:+.3f}. {verdict}",
    "recipes_distill_won": "**Distillation won** at equal cost: {diff:.3f} over training longer (95 % interval "
    "{lo:+.3f} to {hi:+.3f}); `finetune.distill: true` makes it the recipe of every fine-tune.",
    "recipes_longer_won": "**Training longer won** at equal cost: {diff:.3f} over distillation (95 % interval of "
    "distillation − longer {lo:+.3f} to {hi:+.3f}); a longer `finetune.epochs` is the better use of the time.",
    "recipes_tie": "Neither won at equal cost: distillation − longer is within noise (95 % interval {lo:+.3f} to "
    "{hi:+.3f}, adjusted p {p:.2f}).",
    "recipes_unsure": "Distillation − longer: {diff:+.3f} (no interval: `eval.bootstrap` is 0).",
    # messages the prune stage records in metrics.json as ids and values (`yoloslim.text.message`)
    "not_sparse_at": "The model is not sparse at {cut:.4g}: no channel has |gamma| under it (smallest {smallest:.3g}, "
    "median {median:.3g}), so pruning removes only what channel alignment forces. " + ADVICE_EN,
    "not_sparse_band": "The model is not sparse: the cut at |gamma| {cut:.4g} falls inside one band of gammas (the "
    "{under:.0%} of channels under it have a median |gamma| {contrast:.0%} of the kept channels'). Which channels "
    "go is then decided by noise, not by what the detector needs, and accuracy after pruning drops far more than "
    "network slimming promises. " + ADVICE_EN,
    "search_not_met": "no structure meets the latency budget on {engine}: the fastest found (threshold "
    "{threshold:.4g}, {gflops:.3g} GFLOPs) takes {latency:.3g} ms, {ratio:.2f}x the base model; it is kept",
    "flops_not_met": "no structure is within the FLOPs budget {budget} ({gflops_budget:.3g} GFLOPs): the smallest "
    "(threshold {threshold:.4g}) has {gflops:.3g} GFLOPs; it is kept",
    "flops_not_matched": "Torch-Pruning's {method} could not reach {target_gflops:.3g} GFLOPs within "
    "{tolerance:.0%}: its closest structure has {gflops:.3g} (global ratio {ratio:.3g}); this comparison is not at "
    "equal cost",
    "latency_not_matched": "no Torch-Pruning structure meets {budget}: its fastest (global ratio {ratio:.3g}) "
    "measured {latency_ratio:.2f}x the base model",
    # why a group keeps what it keeps (the prune stage records them as messages: layers.csv, metrics.json)
    "note_nothing_under": "nothing under the threshold",
    "note_too_few": "not pruned: only {width} channels, not more than round_to={round_to}",
    "note_alignment_restored": "not pruned: alignment to {round_to} ({round_dir}) restored all {restored} channels",
    "note_tied": "tied group: {layers}",
    "note_equal_halves": "kept {kept} to equal the other half of {block} (a stock C2f/C3k2 splits in equal halves)",
    "note_random": "channels chosen at random (control)",
    "note_detect_tied": "not pruned: tied to a Detect output or DFL, which are never pruned",
    "note_attention_intact": "kept intact: inside the attention block {block} ({kind}), whose heads reshape its "
    "channels",
    "note_whole_heads": "{channels} channels, whole heads",
    "heads_kept": "{keep} of {heads} heads of {head_dim} channels kept in {block}",
    "heads_all_head_dim": "all {heads} heads kept: head_dim {head_dim} is not a multiple of round_to={round_to}",
    "heads_all_residual": "all {heads} heads kept: the residual width of {block} is tied to a layer never pruned",
    "heads_needed": "{needed} with value |gamma| at or over the threshold",
    # engines and precision (INT8)
    "s2_4_3_engines": "#### 2.4.3 Engines and precision",
    "engines_intro": "Median latency of every model on every engine it was timed on (eval.engines), and its ratio "
    "to the base model on the same engine and precision (the interleaved measurement of 2.4.2, PyTorch included). "
    "Each header "
    "gives the precision the engine actually ran, "
    "read back from the compiled model or the graph. INT8 models are Ultralytics' exports: ONNX Runtime's static "
    "quantisation of the weighted operators (`onnx_cpu_int8`; the Detect decode stays in float, since one INT8 scale "
    "cannot hold box pixels and class scores) and NNCF's post-training quantisation for OpenVINO "
    "(`openvino_cpu_int8`; the Detect head stays in float), each calibrated on {calib} training images, never "
    "validation or test images. `openvino_cpu_bf16` runs the FP32 export in BF16, where the CPU offers it.",
    "not_measured_cell": "—",
    "int8_drop": "INT8 − FP32 [95 % interval]",
    "int8_caption": "INT8 on `{engine}`, {split} split: mmAP in FP32 and INT8 (conf 0.001), and the drop with its "
    "95 % interval, paired image by image.",
    "int8_per_class": "INT8 on `{engine}`, {split} split: mmAP drop per class (INT8 − FP32).",
    "int8_none": "No INT8 model was validated (eval.engines lists no INT8 engine, or its export failed: see the "
    "latency notes).",
    "int8_model": "{model} {ratio:.2f}× the base model (FP32 on ONNX Runtime {fp32_ratio:.2f}×; INT8 − FP32 mmAP "
    "{drop})",
    "int8_summary": "After INT8 on `{engine}`: {models}.",
}
