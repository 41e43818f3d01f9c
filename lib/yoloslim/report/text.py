"""The report's one phrasebook: every sentence that carries a value, in English and Chinese (`report.lang`).

The fixed prose (headings and explanations without values) is in the markdown cells of
notebooks/07_report.ipynb, translated in yoloslim/report/07_report.zh.yaml (`yoloslim.report.build`). Here are the
sentences the report's code cells fill with configured or measured values, table and axis labels, and the
summary's sentences (section 3, `yoloslim.report.summary`).

from yoloslim.report.text import text
text("zh", "not_measured", what="`torch_cuda`")  # '本机未测量：`torch_cuda`。'
"""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Network slimming report: {name}",
        "intro": "Every number below is read from the study's results files under `{run}`.",
        "config_used": "Configuration `{name}` (hash `{digest}`), resolved with all defaults:",
        "split": "Split per source, train:val:test = {ratio}:",
        "data_summary": "{images} images ({background} without codes), {skipped} skipped, {problems} problems; "
        "instances: {instances}. In the test split: {test_instances}.",
        "data_test_only": "The test split adds {count:,} test-only images (`test_only` in the table), rendered with a "
        "seed of their own ({seed}) in the same proportions, so every class has enough test instances for the "
        "intervals; the train:val:test split of the {images:,} images stays as configured.",
        "s2_intro": "Base model `{model}` at {imgsz} px. mAP = mAP@0.5, mmAP = mAP@0.5:0.95; the deployment "
        "threshold is conf {conf}. Every table says which confidence it uses.",
        "acc_standard": "Accuracy over all detections (conf 0.001, the standard metric).",
        "interval_note": "± is half the width of the 95 % interval from {draws:,} bootstrap resamples of the images.",
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
        "search_text": "Pruned to a latency budget of {budget} on `{engine}`: {candidates} structures timed (each with "
        "the base model), and the largest within the budget kept: threshold {threshold}, {gflops} GFLOPs, "
        "{latency} ms, {ratio}× the base model (budget {outcome}). {message}",
        "budget_note": "Budget: {budget} on `{engine}` (✓ within, ✗ over).",
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
        "interleaved_note": "ONNX Runtime CPU latency with every model in one process, interleaved: {runs} rounds, "
        "each running every model once in a random order. Median ms and the median of the per-round ratio to the "
        "base model, with 95 % intervals (bootstrap over the rounds):",
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
        "cost": "Accuracy cost of **{model}** against the base ({split} mmAP drop per class): {costs}.",
        "collapsed": "**Collapsed classes** (a class's recall at conf {conf:g} fell more than its model's average "
        "recall, by more than {margin:g}): {items}.",
        "no_collapse": "No class collapsed: no class's recall at conf {conf:g} fell more than its model's average "
        "recall by more than {margin:g}.",
        "convergence": "Fine-tuning convergence: the pruned models reached 90% of their final val mmAP after "
        "{pruned:.1f} epochs on average, the uniform baselines after {variants:.1f} ({verdict}).",
        "slower": "pruned models converged more slowly",
        "faster": "pruned models converged faster",
        "same": "about as fast",
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
        "random_noise": "the difference is **within noise**: its 95 % interval, {lo:+.3f} to {hi:+.3f}, contains 0",
        "interval": " (95 % interval {lo:+.3f} to {hi:+.3f})",
        "noise": " (within noise)",
        "random_lost": "selection by gamma did **not** beat random selection; here the gammas did not single out "
        "the channels the detector needs",
        "not_sparse": "**{label}** — {warning}",
    },
    "zh": {
        "title": "网络瘦身剪枝报告：{name}",
        "intro": "下文所有数字均读自本次实验的结果文件（`{run}`）。",
        "config_used": "配置 `{name}`（哈希 `{digest}`），含全部默认值：",
        "split": "每个来源按 train:val:test = {ratio} 划分：",
        "data_summary": "共 {images} 张图片（{background} 张无码），跳过 {skipped} 张，问题 {problems} 处；"
        "目标数：{instances}。测试集中：{test_instances}。",
        "data_test_only": "测试集另含 {count:,} 张仅用于测试的图片（表中 `test_only`），"
        "以单独的种子（{seed}）按相同比例渲染，使每个类别都有足够的测试目标来计算置信区间；"
        "{images:,} 张图片的训练:验证:测试划分保持不变。",
        "s2_intro": "基础模型 `{model}`，输入 {imgsz} px。mAP = mAP@0.5，mmAP = mAP@0.5:0.95；部署置信度阈值为 "
        "{conf}。每个表格均注明所用的置信度。",
        "acc_standard": "全部检测框上的精度（置信度 0.001，标准指标）。",
        "interval_note": "± 为对图像做 {draws:,} 次 bootstrap 重采样得到的 95% 置信区间宽度的一半。",
        "acc_operating": "部署阈值置信度 {conf:g} 下：得分不低于 {conf:g} 的检测框的精确率、召回率和 F1（IoU 0.5）。",
        "precision_undefined": "P 为 — 表示该类别没有得分不低于 {conf:g} 的检测框，精确率无定义"
        "（accuracy.csv 中为 NaN，而非 0），其 F1 为 0，`all` 只对有精确率的类别取平均。",
        "acc_original": "原始研究的指标，置信度 {conf:g} 下的 mAP：仅用得分不低于 {conf:g} 的检测框计算的平均精度，"
        "精确率-召回率曲线止于该置信度能达到的召回率（Ultralytics 的 `val(conf={conf:g})`）。",
        "sparse_text": "对 BN 层 gamma 施加 L1 稀疏，sl = {sl}（{schedule}，位置 `{l1}`），训练 {epochs} 轮，"
        "其中最后 {recover} 轮不加 L1（恢复）；最后一个稀疏轮的平均稀疏损失 {sl_mloss}。"
        "验证集 mmAP：{base}（基础）→ {sparse}（稀疏）。",
        "budget_text": "L1 预算：共 {steps} 次优化器更新施加了该项，Σ lr·sl = {budget}，即仅靠 L1 项能使 gamma "
        "移动的距离（gamma 初始为 1.0；SGD 动量使 `after_clip` 的步长放大约 {stretch:.0f} 倍）。作为对比，"
        "`params/seed.yaml`（原始实验）按其设置在原数据集的 {seed_images} 张训练图上计划 {seed_steps} 次更新，"
        "Σ lr·sl = {seed_budget}。",
        "stop_reached": "稀疏目标：在第 {step} 次优化器更新（第 {epoch} 轮）时已有 {fraction} 的 gamma 低于 {under}，"
        "此后 L1 项关闭，余下的训练用于恢复精度。",
        "stop_missed": "未达到稀疏目标（{fraction} 的 gamma 低于 {under}）：L1 项在整个训练中保持开启。",
        "prune_text": "**{label}**：{policy} {value}，通道数按 {round_dir} 方向对齐到 {round_to} 的倍数。参数量 "
        "{params_before} → {params_after}，GFLOPs {gflops_before} → {gflops_after}。对齐恢复 {restored} 个、"
        "去除 {removed} 个通道。剪枝后直接验证 mAP50（置信度 0.001）：折叠 beta {fold50}"
        "（为稀疏模型 {sparse50} 的 {kept_share}），不折叠 {nofold50}；mmAP 分别为 {fold} 与 {nofold}。",
        "unpruned": "未剪枝的组：{groups}。",
        "search_text": "按 `{engine}` 上 {budget} 的时延预算剪枝：共测量 {candidates} 个结构（均与基础模型一起计时），"
        "保留预算内最大的结构：阈值 {threshold}，{gflops} GFLOPs，{latency} ms，为基础模型的 {ratio} 倍"
        "（预算 {outcome}）。{message}",
        "budget_note": "时延预算：`{engine}` 上 {budget}（✓ 达标，✗ 超出）。",
        "budget_relative": "基础模型时延的 {factor:g} 倍（{ms} ms）",
        "decode_ceiling": "上限（从自身真值框可解码的真值码）：{ceilings}。",
        "decode_ceiling_low": "{classes} 的上限低于 {floor:.0%}：许多码即使从精确的框中也无法解码"
        "（对该分辨率下的 zxing-cpp 而言过小、模糊或旋转），因此这些类别的低解码率更多反映图像而非模型。"
        "图像以可读的分辨率采集或渲染时，解码率才最有意义；"
        "检测器仍可在较小的尺寸上运行。",
        "not_measured": "本机未测量：{what}。",
        "missing": "（未生成：`{path}`）",
        "budget": "预算",
        "flops_ratio": "GFLOPs ÷ 基础",
        "interleaved_note": "所有模型在同一进程中交替测量的 ONNX Runtime CPU 时延：共 {runs} 轮，每轮按随机顺序"
        "各运行一次。给出中位数（毫秒）以及相对基础模型的逐轮比值的中位数，并附 95% 置信区间（对轮次做 bootstrap）：",
        "latency_ratio": "{engine} ÷ 基础",
        "epochs_to_90": "达到最终 mmAP 90% 的轮数",
        "final": "最终 mmAP",
        "latency_axis": "{engine} 时延 (ms)",
        "gflops_axis": "GFLOPs",
        "accuracy_axis": "测试集 mmAP（全部类别）",
        "epoch_axis": "轮次",
        # section 3, the summary (yoloslim.report.summary)
        "budget_met": "共 **{n}/{total}** 个模型满足 `{engine}` 上 {label} 的时延预算：{models}。"
        "其中精度最高的是 **{best}**（{split} mmAP {acc:.3f}，{latency:.2f} ms）。",
        "budget_none": "**没有模型满足** `{engine}` 上 {label} 的时延预算。最快的 **{fast}** 需要 "
        "{latency:.2f} ms，为预算的 {factor:.1f} 倍（{split} mmAP {acc:.3f}）。",
        "budget_unmeasured": "本机未测量预算所用的引擎 `{engine}`，无法判断模型是否满足 {label} 的预算。",
        "cost": "**{model}** 相对基础模型的精度损失（{split} 各类别 mmAP 下降）：{costs}。",
        "collapsed": "**出现崩塌的类别**（该类在置信度 {conf:g} 下的召回率下降比模型平均下降多出 {margin:g} "
        "以上）：{items}。",
        "no_collapse": "没有类别崩塌：各类别在置信度 {conf:g} 下的召回率下降均未比模型平均下降多出 {margin:g}。",
        "convergence": "微调收敛：剪枝模型平均 {pruned:.1f} 轮达到最终验证集 mmAP 的 90%，均匀缩放基线平均 "
        "{variants:.1f} 轮（{verdict}）。",
        "slower": "剪枝模型收敛更慢",
        "faster": "剪枝模型收敛更快",
        "same": "收敛速度相近",
        "next_imgsz": "下一步：降低输入尺寸有效：**{variant}** 在 {imgsz} px 下为 {latency:.2f} ms，而全尺寸的 "
        "**{same}** 为 {full:.2f} ms；建议在较小尺寸下剪枝，并以 mAP 评判。",
        "next_prune": "下一步：加大剪枝力度。达到预算需要比最快模型再快 {factor:.1f} 倍；可将最大阈值提高到 "
        "{value:g} 以上，或使用 `prune.policy: fraction` 并增大比例。",
        "next_engine": "此处时延与计算量不一致（计算量最少：**{flops}**；最快：**{fast}**）："
        "请在目标引擎上实测后再选择。",
        "next_search": "**{label}** 的搜索未找到 {budget} 以内的结构：最快的结构（|gamma| < {threshold:.4g}，"
        "{gflops:.3g} GFLOPs）耗时 {latency:.3g} ms，为基础模型的 {ratio:.2f} 倍。"
        "下一步可减小 `train.imgsz` 或使用更窄的基础模型。",
        "random": "按 |gamma| 选择通道与随机选择对照（每层保留相同通道数，随机选择通道，以相同方式微调）："
        "**{gamma_label}** {split} mmAP {gamma:.3f}，**{random_label}** {random:.3f}（{diff:+.3f}）：{verdict}。",
        "random_won": "按 gamma 选择优于随机选择",
        "scratch": "继承剪枝后的权重与相同结构重新初始化（Liu 等，ICLR 2019）、训练 {epochs} 轮"
        "（微调为 {inherit_epochs} 轮）对比：**{gamma_label}** {split} mmAP {gamma:.3f}，"
        "**{random_label}** {random:.3f}（{diff:+.3f}）：{verdict}。",
        "scratch_won": "继承剪枝后的权重优于从头训练该结构",
        "scratch_lost": "继承剪枝后的权重**未能**优于从头训练该结构",
        "alternative": "按 |gamma| 选择通道与 Torch-Pruning 的 `{method}` 剪枝器在相同代价（{cost}）下对比，"
        "以相同方式微调：**{gamma_label}** {split} mmAP {gamma:.3f}，**{random_label}** {random:.3f}"
        "（{diff:+.3f}）：{verdict}。",
        "alternative_won": "网络瘦身更优",
        "pareto": "{split} 集精度-时延帕累托前沿（没有其他模型同时更快且更准），由快到慢：{on}。不在前沿上：{off}。",
        "pareto_off": "{label}（被 {by} 超越）",
        "pareto_all": "所有压缩模型均在前沿上",
        "alternative_lost": "Torch-Pruning 的剪枝器优于网络瘦身",
        "alternative_unmatched": "计算量不相等：{message}。",
        "random_noise": "两者之差**在噪声范围内**：其 95% 置信区间 {lo:+.3f} 至 {hi:+.3f} 包含 0",
        "interval": "（95% 置信区间 {lo:+.3f} 至 {hi:+.3f}）",
        "noise": "（在噪声范围内）",
        "random_lost": "按 gamma 选择**未能**优于随机选择；此处 gamma 未能区分出检测器需要的通道",
        "not_sparse": "**{label}** — {warning}",
    },
}


def text(lang: str, key: str, **values: object) -> str:
    """The phrase `key` in `lang` ("en" or "zh"), with `{placeholders}` filled from `values`."""
    return TEXT[lang][key].format(**values)
