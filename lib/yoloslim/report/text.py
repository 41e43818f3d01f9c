"""The report's fixed words, in English and Chinese (`report.lang`); numbers never appear here.

from yoloslim.report.text import text
text("zh", "s2_1")  # '2.1 稀疏训练'
"""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Network slimming report: {name}",
        "intro": "Every number below is read from the study's results files under `{run}`.",
        "s1": "1 Preparation",
        "s1_1": "1.1 Environment",
        "s1_2": "1.2 Data set",
        "config_used": "Configuration `{name}` (hash `{digest}`), resolved with all defaults:",
        "tree": "Data set tree (images per category and source):",
        "split": "Split per source, train:val:test = {ratio}:",
        "samples": "Sample images:",
        "data_summary": "{images} images ({background} without codes), {skipped} skipped, {problems} problems; "
        "instances: {instances}. In the test split: {test_instances}.",
        "data_test_only": "The test split adds {count:,} test-only images (`test_only` in the table), rendered with a "
        "seed of their own ({seed}) in the same proportions, so every class has enough test instances for the "
        "intervals; the train:val:test split of the {images:,} images stays as configured.",
        "s2": "2 Pruning",
        "s2_intro": "Base model `{model}` at {imgsz} px. mAP = mAP@0.5, mmAP = mAP@0.5:0.95; the deployment "
        "threshold is conf {conf}. Every table says which confidence it uses.",
        "acc_standard": "Accuracy over all detections (conf 0.001, the standard metric).",
        "interval_note": "± is half the width of the 95 % interval from {draws:,} bootstrap resamples of the images.",
        "acc_operating": "At the deployment threshold conf {conf:g}: precision, recall and F1 of the detections "
        "scoring at least {conf:g} (IoU 0.5).",
        "acc_original": "The original study's metric, mAP at conf {conf:g}: average precision of only the "
        "detections scoring at least {conf:g}, so the precision-recall curve stops at the recall that conf "
        "reaches (Ultralytics' `val(conf={conf:g})`).",
        "s2_1": "2.1 Sparse training",
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
        "gamma_fractions": "Fraction of gammas under each absolute threshold, per epoch of sparse training:",
        "s2_2": "2.2 Pruning",
        "s2_2_1": "2.2.1 Sparsity distribution",
        "prune_text": "**{label}**: {policy} {value}, channels aligned {round_dir} to {round_to}. Params "
        "{params_before} → {params_after}, GFLOPs {gflops_before} → {gflops_after}. Alignment restored "
        "{restored} and removed {removed} channels. Val mAP50 right after pruning (conf 0.001): {fold50} with "
        "beta folded ({kept_share} of the sparse model's {sparse50}), {nofold50} without; mmAP {fold} and "
        "{nofold}.",
        "unpruned": "Groups left unpruned: {groups}.",
        "search_text": "Pruned to a latency budget of {budget} on `{engine}`: {candidates} structures timed (each with "
        "the base model), and the largest within the budget kept: threshold {threshold}, {gflops} GFLOPs, "
        "{latency} ms, {ratio}× the base model (budget {outcome}). {message}",
        "s2_2_2": "2.2.2 Pruning ratio",
        "ratio_note": "Pruned fraction of channels and parameters per part. Uniform-width baselines are "
        "compared with the base model's channels and parameters.",
        "s2_3": "2.3 Fine-tuning: validation set",
        "convergence": "Fine-tuning convergence (validation mmAP per epoch, Ultralytics' val over all detections, "
        "conf 0.001):",
        "s2_4": "2.4 Results",
        "s2_4_1": "2.4.1 Test set",
        "s2_4_2": "2.4.2 Size, parameters, speed and FLOPs",
        "budget_note": "Budget: {budget} on `{engine}` (✓ within, ✗ over).",
        "budget_relative": "{factor:g}× the base model's latency ({ms} ms)",
        "decode": "Decode rate per class on the test set: decoded codes / ground-truth codes (`/ gt`), and / codes "
        "that decode when cropped at their own ground-truth box (`/ decodable`, the data's ceiling):",
        "decode_ceiling": "Ceilings (ground-truth codes that decode from their own box): {ceilings}.",
        "decode_ceiling_low": "The ceiling of {classes} is under {floor:.0%}: many of these codes do not decode even "
        "from their exact box (too small, blurred or rotated for zxing-cpp at the images' resolution), so a low "
        "decode rate there says more about the images than about the models. Decode rates mean most when images "
        "are captured, or rendered, at a resolution where codes read; the detector can still run at a smaller size.",
        "tradeoff": "Accuracy against latency and FLOPs; the line joins the Pareto front.",
        "not_measured": "Not measured on this machine: {what}.",
        "s3": "3 Summary",
        "missing": "(not produced: `{path}`)",
        "model": "model",
        "class": "class",
        "budget": "budget",
        "flops_ratio": "GFLOPs ÷ base",
        "interleaved_note": "ONNX Runtime CPU latency with every model in one process, interleaved: {runs} rounds, "
        "each running every model once in a random order. Median ms and the median of the per-round ratio to the "
        "base model, with 95 % intervals (bootstrap over the rounds):",
        "operators_note": "Where ONNX Runtime's CPU time goes (ms per inference, from its profiler): the "
        "convolutions shrink with the channels; concatenations, splits, resizes, the Detect head's reshapes and "
        "the time between operators shrink less, which is why latency falls less than FLOPs.",
        "latency_ratio": "{engine} ÷ base",
        "epochs_to_90": "epochs to 90% of final mmAP",
        "final": "final mmAP",
        "part": "part",
        "channels": "channels",
        "params": "params",
        "latency_axis": "latency on {engine} (ms)",
        "gflops_axis": "GFLOPs",
        "accuracy_axis": "test mmAP (all classes)",
        "epoch_axis": "epoch",
        "item": "item",
        "value": "value",
    },
    "zh": {
        "title": "网络瘦身剪枝报告：{name}",
        "intro": "下文所有数字均读自本次实验的结果文件（`{run}`）。",
        "s1": "1 准备工作",
        "s1_1": "1.1 环境",
        "s1_2": "1.2 数据集",
        "config_used": "配置 `{name}`（哈希 `{digest}`），含全部默认值：",
        "tree": "数据集目录（各类别、来源的图片数）：",
        "split": "每个来源按 train:val:test = {ratio} 划分：",
        "samples": "样例图片：",
        "data_summary": "共 {images} 张图片（{background} 张无码），跳过 {skipped} 张，问题 {problems} 处；"
        "目标数：{instances}。测试集中：{test_instances}。",
        "data_test_only": "测试集另含 {count:,} 张仅用于测试的图片（表中 `test_only`），"
        "以单独的种子（{seed}）按相同比例渲染，使每个类别都有足够的测试目标来计算置信区间；"
        "{images:,} 张图片的训练:验证:测试划分保持不变。",
        "s2": "2 剪枝",
        "s2_intro": "基础模型 `{model}`，输入 {imgsz} px。mAP = mAP@0.5，mmAP = mAP@0.5:0.95；部署置信度阈值为 "
        "{conf}。每个表格均注明所用的置信度。",
        "acc_standard": "全部检测框上的精度（置信度 0.001，标准指标）。",
        "interval_note": "± 为对图像做 {draws:,} 次 bootstrap 重采样得到的 95% 置信区间宽度的一半。",
        "acc_operating": "部署阈值置信度 {conf:g} 下：得分不低于 {conf:g} 的检测框的精确率、召回率和 F1（IoU 0.5）。",
        "acc_original": "原始研究的指标，置信度 {conf:g} 下的 mAP：仅用得分不低于 {conf:g} 的检测框计算的平均精度，"
        "精确率-召回率曲线止于该置信度能达到的召回率（Ultralytics 的 `val(conf={conf:g})`）。",
        "s2_1": "2.1 稀疏训练",
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
        "gamma_fractions": "稀疏训练各轮中低于各绝对阈值的 gamma 比例：",
        "s2_2": "2.2 剪枝",
        "s2_2_1": "2.2.1 稀疏分布",
        "prune_text": "**{label}**：{policy} {value}，通道数按 {round_dir} 方向对齐到 {round_to} 的倍数。参数量 "
        "{params_before} → {params_after}，GFLOPs {gflops_before} → {gflops_after}。对齐恢复 {restored} 个、"
        "去除 {removed} 个通道。剪枝后直接验证 mAP50（置信度 0.001）：折叠 beta {fold50}"
        "（为稀疏模型 {sparse50} 的 {kept_share}），不折叠 {nofold50}；mmAP 分别为 {fold} 与 {nofold}。",
        "unpruned": "未剪枝的组：{groups}。",
        "search_text": "按 `{engine}` 上 {budget} 的时延预算剪枝：共测量 {candidates} 个结构（均与基础模型一起计时），"
        "保留预算内最大的结构：阈值 {threshold}，{gflops} GFLOPs，{latency} ms，为基础模型的 {ratio} 倍"
        "（预算 {outcome}）。{message}",
        "s2_2_2": "2.2.2 剪枝比例",
        "ratio_note": "各部分被剪掉的通道与参数比例。均匀缩放的基线与基础模型的通道数、参数量比较。",
        "s2_3": "2.3 微调：验证集",
        "convergence": "微调收敛情况（每轮验证集 mmAP，Ultralytics 在全部检测框上验证，置信度 0.001）：",
        "s2_4": "2.4 结果",
        "s2_4_1": "2.4.1 测试集",
        "s2_4_2": "2.4.2 模型大小、参数量、推理时间与计算量",
        "budget_note": "时延预算：`{engine}` 上 {budget}（✓ 达标，✗ 超出）。",
        "budget_relative": "基础模型时延的 {factor:g} 倍（{ms} ms）",
        "decode": "测试集各类别解码率：成功解码数 / 真实码数（`/ gt`），以及 / 按真实框裁剪即可解码的码数"
        "（`/ decodable`，数据本身的上限）：",
        "decode_ceiling": "上限（从自身真值框可解码的真值码）：{ceilings}。",
        "decode_ceiling_low": "{classes} 的上限低于 {floor:.0%}：许多码即使从精确的框中也无法解码"
        "（对该分辨率下的 zxing-cpp 而言过小、模糊或旋转），因此这些类别的低解码率更多反映图像而非模型。"
        "图像以可读的分辨率采集或渲染时，解码率才最有意义；"
        "检测器仍可在较小的尺寸上运行。",
        "tradeoff": "精度与时延、计算量的关系；折线连接帕累托前沿。",
        "not_measured": "本机未测量：{what}。",
        "s3": "3 总结",
        "missing": "（未生成：`{path}`）",
        "model": "模型",
        "class": "类别",
        "budget": "预算",
        "flops_ratio": "GFLOPs ÷ 基础",
        "interleaved_note": "所有模型在同一进程中交替测量的 ONNX Runtime CPU 时延：共 {runs} 轮，每轮按随机顺序"
        "各运行一次。给出中位数（毫秒）以及相对基础模型的逐轮比值的中位数，并附 95% 置信区间（对轮次做 bootstrap）：",
        "operators_note": "ONNX Runtime CPU 时间的去向（每次推理的毫秒数，来自其性能分析器）：卷积随通道数减少，"
        "而拼接、拆分、缩放、Detect 头的形状变换以及算子之间的时间减少得更少，因此时延的下降小于 FLOPs 的下降。",
        "latency_ratio": "{engine} ÷ 基础",
        "epochs_to_90": "达到最终 mmAP 90% 的轮数",
        "final": "最终 mmAP",
        "part": "部分",
        "channels": "通道",
        "params": "参数",
        "latency_axis": "{engine} 时延 (ms)",
        "gflops_axis": "GFLOPs",
        "accuracy_axis": "测试集 mmAP（全部类别）",
        "epoch_axis": "轮次",
        "item": "项目",
        "value": "值",
    },
}


def text(lang: str, key: str, **values: object) -> str:
    """The phrase `key` in `lang` ("en" or "zh"), with `{placeholders}` filled from `values`."""
    return TEXT[lang][key].format(**values)
