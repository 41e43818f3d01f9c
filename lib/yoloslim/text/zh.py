"""Chinese: every text id's words (`yoloslim.text`). Keep each paragraph on one line: a line break between Chinese
characters shows as a space."""

ADVICE_ZH = (
    "请延长稀疏训练（sparse.epochs）或增大 sparse.sl，并保持 sparse.l1: after_clip，以免梯度裁剪削弱 L1 项；"
    "gamma_log.csv 中的 l1_budget（lr * sl 之和）应达到 1 的量级，因为 gamma 初始为 1.0。"
)

ZH: dict[str, str] = {
    # the report's headings and explanations without values (notebooks/07_report.py shows them by id)
    "s1_preparation": "## 1 准备工作\n\n### 1.1 环境",
    "s1_2_data": "### 1.2 数据集\n\n数据集目录（各类别、来源的图片数）：",
    "samples_intro": "样例图片：",
    "s2_pruning": "## 2 剪枝",
    "s2_1_sparse": "### 2.1 稀疏训练",
    "gamma_fractions_intro": "稀疏训练各轮中低于各绝对阈值的 gamma 比例：",
    "s2_2_pruning": "### 2.2 剪枝\n\n#### 2.2.1 稀疏分布",
    "s2_2_2_ratio": "#### 2.2.2 剪枝比例\n\n各部分被剪掉的通道与参数比例。"
    "均匀缩放的基线与基础模型的通道数、参数量比较。",
    "s2_3_finetune": "### 2.3 微调：验证集",
    "convergence_intro": "微调收敛情况（每轮验证集 mmAP，Ultralytics 在全部检测框上验证，置信度 0.001）：",
    "s2_4_results": "### 2.4 结果\n\n#### 2.4.1 测试集",
    "s2_4_2_size": "#### 2.4.2 模型大小、参数量、推理时间与计算量",
    "operators_unprofiled": "未剖析 (ms)",
    "operators_intro": "ONNX Runtime CPU 时间的去向（每次推理的毫秒数，来自其性能分析器）：卷积随通道数减少，"
    "而拼接、拆分、缩放、Detect 头的形状变换以及算子之间的时间减少得更少，因此时延的下降小于 FLOPs 的下降。"
    "性能分析器本身会增加时间：剖析总时间大于不开分析器测得的时延（最后一列，交替测量），“算子之间”（剖析运行中"
    "没有算子内核覆盖的时间）包含这部分开销，因此其占比是上限。",
    "decode_intro": "测试集各类别解码率（仅码类别，各须解码为其码制：{classes}）：成功解码数 / 真实码数（`/ gt`），"
    "以及 / 按真实框裁剪即可解码的码数（`/ decodable`，数据本身的上限）：",
    "decode_intro_detections": "测试集各类别解码率（仅码类别，各须解码为其码制：{classes}）：裁剪后按其类别码制"
    "成功解码的检测框占比（`/ detections`）；该数据集没有载荷真值，因此解码结果无法与真实码对应：",
    "tradeoff_intro": "精度与时延、计算量的关系；折线连接帕累托前沿。",
    "s3_summary": "## 3 总结",
    # sentences with values, table and axis labels
    "title": "网络瘦身剪枝报告：{name}",
    "intro": "下文所有数字均读自本次实验的结果文件（`{run}`）。",
    "config_used": "配置 `{name}`（哈希 `{digest}`），含全部默认值：",
    "split": "每个来源按 train:val:test = {ratio} 划分：",
    "split_given": "数据集自带的划分（{source} `{where}`），原样使用（不重新划分）："
    "train {train:,} 张、val {val:,} 张、test {test:,} 张：",
    "no_test_split": "**数据集没有 test 划分**：没有在 test 上测量，"
    "下面的表格和总结都基于 val（微调选最佳轮次所用的划分）。",
    "no_variants": "本研究没有均匀缩减宽度的基线（`train.variants: []`）：剪枝模型只与基线模型及彼此比较。",
    "base_from_weights": "基线模型是检查点 `{weights}`（其自述训练 {epochs} 轮），原样评估，"
    "未在此重新训练；稀疏训练从它开始。",
    "instances_many": "{classes} 个类别共 {boxes:,} 个目标，最少的是 {fewest}",
    "data_summary": "共 {images} 张图片（{background} 张无标注），跳过 {skipped} 张，问题 {problems} 处；"
    "目标数：{instances}。测试集中：{test_instances}。",
    "data_test_only": "测试集另含 {count:,} 张仅用于测试的图片（表中 `test_only`），"
    "以单独的种子（{seed}）按相同比例渲染，使每个类别都有足够的测试目标来计算置信区间；"
    "{images:,} 张图片的训练:验证:测试划分保持不变。",
    "s2_intro": "基础模型 `{model}`，输入 {imgsz} px。mAP = mAP@0.5，mmAP = mAP@0.5:0.95；部署置信度阈值为 "
    "{conf}。每个表格均注明所用的置信度。模型标签沿用原始研究：`sl` 为剪枝前的稀疏训练模型；`nas_<t>(<name>)` 为按 "
    "|gamma| 阈值 `t` 剪枝并微调后的模型（网络瘦身），`frac_`、`lat_` 与 `flops_` 分别按通道比例、时延预算或 FLOPs "
    "预算剪枝（FLOPs 预算取满足预算的最低阈值；`0.1x` 即基础模型的十分之一）；`random_` 为结构相同但随机选择通道的"
    "对照模型。",
    "acc_standard": "全部检测框上的精度（置信度 0.001，标准指标）。",
    "interval_note": "[lo,hi] 为对图像（及已测量的各次训练，见摘要）做 {draws:,} 次 bootstrap 重采样得到的 95% "
    "置信区间。",
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
    "unpruned_group": "{layers}（{reasons}）",
    "search_text": "按 `{engine}` 上 {budget} 的时延预算剪枝：共测量 {candidates} 个结构（均与基础模型一起计时），"
    "保留预算内最大的结构：阈值 {threshold}，{gflops} GFLOPs，{latency} ms，为基础模型的 {ratio} 倍"
    "（预算 {outcome}）。{message}",
    "budget_borderline": "相对预算处于临界（重新测量可能落在任一侧）：{models}。",
    "budget_note": "时延预算：`{engine}` 上 {budget}（✓ 达标：时延 95% 区间上端低于预算；≈ 临界：预算落在区间内；"
    "✗ 超出：区间下端高于预算）。",
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
    "interleaved_note": "所有模型在同一进程中逐引擎交替测量的时延：每个引擎共 {runs} 轮，每轮按随机顺序"
    "各运行一次。给出中位数（毫秒）以及相对基础模型的逐轮比值的中位数，并附 95% 置信区间。",
    "interleaved_processes": "在 {n} 个新进程中依次测量：每个值为各进程中位数的几何均值，"
    "其区间为另一进程测得中位数的 95% 预测区间"
    "（对各进程取对数后用 Student t 分布：进程的机器状态按比例缩放其所有计时）。预算判定使用这些区间；"
    "逐轮配对的比值在进程间的差异远小于毫秒值。",
    "interleaved_one": "仅在一个进程中测量，区间为对其轮次的 bootstrap：不能覆盖在另一进程中的重新测量，"
    "后者的差异可能更大（`eval.processes` 可在多个进程中测量）。",
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
    "cost": "**{model}** 相对基础模型的精度损失（{split} 各类别 mmAP，模型 − 基础模型，负值为损失）：{costs}。",
    "cost_most": "**{model}** 相对基础模型的精度损失（{split} mmAP，模型 − 基础模型："
    "全部类别，以及 {total} 个类别中下降最多的 {shown} 个）：{costs}。",
    "collapsed": "**出现崩塌的类别**（该类在置信度 {conf:g} 下的召回率下降比模型平均下降多出 {margin:g} "
    "以上；若该差值的 95% 区间下端不超过 {margin:g}，则标为噪声范围内）：{items}。",
    "no_collapse": "没有类别崩塌：各类别在置信度 {conf:g} 下的召回率下降均未比模型平均下降多出 {margin:g}。",
    "convergence": "微调收敛：微调 {epochs} 轮的剪枝模型平均 {pruned:.1f} 轮达到最终验证集 mmAP 的 90%，"
    "均匀缩放基线平均 {variants:.1f} 轮（{verdict}）。",
    "target_epochs": "单独设定微调轮数（其他模型：{epochs} 轮；`finetune.target_epochs`）：{models} 轮，"
    "其随机对照与多种子重复（如有）同样如此；其精度包含这部分训练。",
    "more_training": "以下模型高于基础模型，但其背后的训练更多：{models}。剪枝模型继承基础模型的训练（{base}），"
    "并继续训练（稀疏训练，然后是其微调），因此其增益可能部分来自基础模型未获得的训练："
    "将基础模型训练同样长的轮数（`train.epochs`）才能区分剪枝与训练的作用。",
    "more_training_model": "**{label}** {split} mmAP {diff:+.3f}，多训练 {extra} 轮",
    "base_epochs": "{epochs} 轮",
    "still_rising": "微调结束时仍在提升（验证集 mmAP：最后六分之一轮次的均值相对之前六分之一轮次的均值，"
    "升幅超过其标准误的两倍）：{models}。要挽回剪枝的精度损失，首先应尝试更多微调轮次：`finetune.epochs`，"
    "或对单个模型设置 `finetune.target_epochs`。",
    "still_rising_model": "**{label}** {before:.3f} → {last:.3f}（每段 {n} 轮）",
    "base_given": "检查点自身的训练",
    "slower": "剪枝模型收敛更慢",
    "faster": "剪枝模型收敛更快",
    "same": "收敛速度相近：相差不超过 {margin:.0f} 个轮次（微调轮数的十分之一）",
    "next_imgsz": "下一步：降低输入尺寸有效：**{variant}** 在 {imgsz} px 下为 {latency:.2f} ms，而全尺寸的 "
    "**{same}** 为 {full:.2f} ms；建议在较小尺寸下剪枝，并以 mAP 评判。",
    "next_prune": "下一步：加大剪枝力度。达到预算需要比最快模型再快 {factor:.1f} 倍；可将最大阈值提高到 "
    "{value:g} 以上，或使用 `prune.policy: fraction` 并增大比例。",
    "next_engine": "此处时延与计算量不一致（计算量最少：**{flops}**；最快：**{fast}**）：请在目标引擎上实测后再选择。",
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
    "random_noise": "两者之差**在噪声范围内**（95% 置信区间 {lo:+.3f} 至 {hi:+.3f}，校正后 p 值 {p:.2f}）",
    "interval": "（95% 置信区间 {lo:+.3f} 至 {hi:+.3f}，校正后 p 值 {p:.3f}）",
    "budget_tied": "它仅在**噪声范围内**领先（因此其间没有胜者）：{tied}。",
    "budget_tie": "领先 {label} {diff:+.3f}（95% 置信区间 {lo:+.3f} 至 {hi:+.3f}，校正后 p 值 {p:.2f}）",
    "budget_beat_all": "它胜过预算内的其他所有模型（每个差值的区间均不含 0）。",
    "pareto_tied": "仅在噪声范围内落后于更快的模型，因此不算离开前沿：{tied}。",
    "pareto_tie": "{label}（落后 {by} {diff:.3f}，95% 置信区间 {lo:+.3f} 至 {hi:+.3f}，校正后 p 值 {p:.2f}）",
    "intervals_images": "精度置信区间仅对测试图像重采样：每个模型只训练了一次，训练之间的波动**不**包含在内"
    "（`finetune.seeds: 1`）。",
    "intervals_component": "精度置信区间包含实测的训练间波动：{runs}（各以不同随机种子微调 {k} 次的全类别 mmAP"
    "{redrawn}）。自助法每次抽样先从这类模型的各次训练中取一次，再对图像重采样；只训练一次的模型"
    "加上{component}。基础训练与稀疏训练只运行了一次：它们所导致的结构差异不在任何置信区间内。",
    "intervals_redrawn": "；随机对照每次还重新抽取了通道",
    "intervals_spread": "实测的训练间标准差（全类别 mmAP {spread:.3f}）作为方差分量"
    "（不含随机对照：其各次训练还重新抽取了通道）",
    "intervals_no_spread": "零方差分量：只有随机对照微调了多次，而其各次训练还重新抽取了通道，"
    "只训练一次的模型没有这种波动",
    "intervals_holm": "结论（“胜过”“不在前沿上”）要求差值的 95% 置信区间不含 0，且其 p 值（由自助法标准误得出）"
    "经 Holm 方法对本摘要判断的全部差值校正后低于 {alpha}；否则称为在噪声范围内。",
    "noise": "（在噪声范围内）",
    "random_lost": "按 gamma 选择**未能**优于随机选择；此处 gamma 未能区分出检测器需要的通道",
    "not_sparse": "**{label}** — {warning}",
    "cost_latency": "基础模型时延的 {ratio:.2f} 倍，预算 {budget}",
    "cost_flops": "{gflops:.3g} GFLOPs，目标为 {target_gflops:.3g} GFLOPs",
    "matched_flops": "全局通道比例 {ratio:.3g}，与 {target} 模型的 GFLOPs 相同（{value}）",
    "matched_latency": "全局通道比例 {ratio:.3g}，为预算内最大的结构（{value}）",
    "search_met": "达标",
    "search_missed": "未达标",
    "ratio_to_base": "÷ 基础",
    "operators_other": "其他",
    "between_operators": "算子之间",
    "operators_total": "合计",
    "value": "值",
    "steps": "更新次数",
    "kind": "类型",
    "epochs": "轮数",
    "pareto_legend": "帕累托前沿",
    # the answer page, first in the report (yoloslim.report.answer)
    "s0_answer": "## 结论",
    "answer_intro": "时延预算为 `{engine}` 上的 {budget}：时延区间上界在预算内为达标，下界超出预算为未达标，"
    "其余为临界。精度：{split} 集 mAP50-95 [95% 置信区间]。",
    "answer_met": "达标",
    "answer_borderline": "临界",
    "answer_not_met": "未达标",
    "answer_unmeasured": "未测量",
    # the Pareto front per engine (yoloslim.report.data.engine_points)
    "engine_fronts_intro": "各引擎上的精度与时延，按模型在该引擎上的部署形态："
    "INT8 引擎上为 INT8 模型自身的 {split} mmAP（无置信区间）。虚线连接各引擎的帕累托前沿。",
    "fronts": "各引擎上的帕累托前沿（{split} mmAP；INT8 引擎上为 INT8 模型自身的精度），由快到慢：{fronts}。",
    "front_engine": "`{engine}`：{models}",
    # the fine-tune recipes of finetune.compare at equal cost (yoloslim.report.recipes)
    "recipes_intro": "相同代价下的微调方案（{split} 集）：现行方案；同一方案延长训练，"
    "多训练的轮数与一步蒸馏多出的代价相当；以及由未剪枝的 {teacher} 模型蒸馏"
    "（Ultralytics 的特征蒸馏，权重 {weight:g}）。每步秒数为单独测量：每批 {batch} 张，"
    "普通步与蒸馏步在同一进程中交替计时（不含数据加载）；"
    "代价 = 每步秒数 × 每轮批数 × 轮数。差值按图像配对（95% 置信区间）。",
    "recipe_column": "方案",
    "recipe_recipe": "现行方案",
    "recipe_longer": "延长训练，无教师",
    "recipe_distill": "由 {teacher} 蒸馏",
    "step_ms": "毫秒/步",
    "cost_min": "代价（分钟）",
    "vs_recipe": "− 现行方案",
    "model": "模型",
    "recipes": "**{label}** 在相同代价下的微调方案（{split} mmAP）："
    "现行方案（{epochs} 轮）相对基线模型为 {against:+.3f}；"
    "延长训练（{longer_epochs} 轮：一步蒸馏的代价是普通一步的 {ratio:.2f}×）在此基础上变化 {longer_back:+.3f}，"
    "由 {teacher} 模型蒸馏变化 {distill_back:+.3f}。{verdict}",
    "recipes_distill_won": "相同代价下**蒸馏胜出**：比延长训练高 {diff:.3f}"
    "（95% 置信区间 {lo:+.3f} 至 {hi:+.3f}）；"
    "设置 `finetune.distill: true` 可让所有微调采用蒸馏。",
    "recipes_longer_won": "相同代价下**延长训练胜出**：比蒸馏高 {diff:.3f}"
    "（蒸馏 − 延长训练的 95% 置信区间 {lo:+.3f} 至 {hi:+.3f}）；"
    "把时间用于更多的 `finetune.epochs` 更划算。",
    "recipes_tie": "相同代价下两者不分胜负：蒸馏 − 延长训练在噪声范围内（95% 置信区间 {lo:+.3f} 至 {hi:+.3f}，"
    "校正后 p 值 {p:.2f}）。",
    "recipes_unsure": "蒸馏 − 延长训练：{diff:+.3f}（无置信区间：`eval.bootstrap` 为 0）。",
    # messages the prune stage records in metrics.json as ids and values (`yoloslim.text.message`)
    "not_sparse_at": "模型在 {cut:.4g} 处不稀疏：没有通道的 |gamma| 低于该值（最小 {smallest:.3g}，"
    "中位数 {median:.3g}），因此剪枝只会去除通道对齐所要求的通道。" + ADVICE_ZH,
    "not_sparse_band": "模型不稀疏：|gamma| {cut:.4g} 处的切分落在同一簇 gamma 之中"
    "（低于该值的 {under:.0%} 通道的 |gamma| 中位数为保留通道的 {contrast:.0%}）。"
    "此时剪去哪些通道由噪声决定，而非由检测器的需要决定，"
    "剪枝后的精度下降会远超网络瘦身所预期的程度。" + ADVICE_ZH,
    "search_not_met": "`{engine}` 上没有结构满足时延预算：找到的最快结构（阈值 {threshold:.4g}，{gflops:.3g} GFLOPs）"
    "耗时 {latency:.3g} ms，为基础模型的 {ratio:.2f} 倍；保留该结构。",
    "flops_not_met": "没有结构满足 FLOPs 预算 {budget}（{gflops_budget:.3g} GFLOPs）：最小的结构"
    "（阈值 {threshold:.4g}）为 {gflops:.3g} GFLOPs；保留该结构。",
    "flops_not_matched": "Torch-Pruning 的 `{method}` 无法在 {tolerance:.0%} 以内达到 {target_gflops:.3g} GFLOPs："
    "其最接近的结构为 {gflops:.3g}（全局比例 {ratio:.3g}）；此对比并非在相同代价下进行",
    "latency_not_matched": "没有 Torch-Pruning 结构满足 {budget}：其最快结构（全局比例 {ratio:.3g}）测得为基础模型的 "
    "{latency_ratio:.2f} 倍",
    # 剪枝组保留通道的原因（剪枝阶段以消息记录：layers.csv、metrics.json）
    "note_nothing_under": "没有通道低于阈值",
    "note_too_few": "未剪枝：仅有 {width} 个通道，不多于 round_to={round_to}",
    "note_alignment_restored": "未剪枝：按 {round_to} 对齐（{round_dir}）恢复了全部 {restored} 个通道",
    "note_tied": "耦合组：{layers}",
    "note_equal_halves": "保留 {kept} 个通道，与 {block} 的另一半相等（标准 C2f/C3k2 均分为两半）",
    "note_random": "随机选择通道（对照）",
    "note_detect_tied": "未剪枝：与 Detect 输出或 DFL 耦合，二者从不剪枝",
    "note_attention_intact": "保持完整：位于注意力模块 {block}（{kind}）内，其注意力头决定通道排列",
    "note_whole_heads": "{channels} 个通道，按整头保留",
    "heads_kept": "{block} 保留 {heads} 个头中的 {keep} 个（每头 {head_dim} 个通道）",
    "heads_all_head_dim": "保留全部 {heads} 个头：head_dim {head_dim} 不是 round_to={round_to} 的倍数",
    "heads_all_residual": "保留全部 {heads} 个头：{block} 的残差宽度与从不剪枝的层耦合",
    "heads_needed": "{needed} 个头的 value |gamma| 不低于阈值",
    # 引擎与精度（INT8）
    "s2_4_3_engines": "#### 2.4.3 推理引擎与精度",
    "engines_intro": "每个模型在其测量的每个引擎上（eval.engines）的时延中位数，"
    "以及在相同引擎和精度下相对基础模型的比值（2.4.2 节的交错测量，PyTorch 亦然）。"
    "表头给出引擎实际运行的精度，读取自编译后的模型或计算图。INT8 模型由 Ultralytics 导出：`onnx_cpu_int8` 为 ONNX "
    "Runtime 对带权重算子的静态量化（Detect 解码保持浮点，因为同一个 INT8 尺度无法同时容纳框坐标像素和类别分数），"
    "`openvino_cpu_int8` 为 NNCF 面向 OpenVINO 的训练后量化（Detect 头保持浮点）；二者均以 {calib} 张训练图像校准，"
    "从不使用验证集或测试集图像。`openvino_cpu_bf16` 在 CPU 支持时以 BF16 运行 FP32 导出模型。",
    "not_measured_cell": "—",
    "int8_drop": "INT8 − FP32 [95% 区间]",
    "int8_caption": "`{engine}` 上的 INT8，{split} 集：FP32 与 INT8 的 mmAP（置信度 0.001），"
    "以及逐图像配对的下降值及其 95% 区间。",
    "int8_per_class": "`{engine}` 上的 INT8，{split} 集：各类别的 mmAP 下降（INT8 − FP32）。",
    "int8_none": "未验证任何 INT8 模型（eval.engines 未列出 INT8 引擎，或其导出失败：见时延说明）。",
    "int8_model": "{model} 为基础模型的 {ratio:.2f} 倍（ONNX Runtime FP32 下为 {fp32_ratio:.2f} 倍；"
    "INT8 − FP32 mmAP {drop}）",
    "int8_summary": "`{engine}` 上 INT8 之后：{models}。",
}
