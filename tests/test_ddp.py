"""Multi-GPU: a trainer rebuilt the way Ultralytics' DDP workers rebuild it keeps everything yoloslim gave it.

Ultralytics launches each DDP worker with a generated script that loads the state `generate_ddp_file` pickled
(trainer class, arguments, model, callbacks) and builds the trainer from it. These tests write that state for
the sparse and fine-tune stages, load it, and build the trainer exactly as the generated script does (its
code is read from the file and checked), all on the CPU.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.training import callback_objects, rebuilt_in_worker
from yoloslim.config import Config
from yoloslim.models.build import build_model, conv_channels
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.models.gammas import gamma_values
from yoloslim.paths import StudyPaths
from yoloslim.prune.slimming import prune_model
from yoloslim.train.finetune import PrunedTrainer, finetune_job
from yoloslim.train.precise_bn import PreciseBN
from yoloslim.train.sparse import SparseTrainer, Sparsity, sparse_job


def test_sparse_trainer_keeps_model_l1_settings_and_precise_bn_in_a_ddp_worker(smoke_cfg: Config) -> None:
    smoke_cfg.model.width = 0.125  # a width override: the YAML says 0.25
    smoke_cfg.sparse.start = "scratch"
    smoke_cfg.sparse.l1, smoke_cfg.sparse.sl, smoke_cfg.sparse.recover_epochs = "proximal", 0.07, 0
    smoke_cfg.sparse.nbs = 16
    smoke_cfg.train.precise_bn = 24
    job = sparse_job(smoke_cfg)
    original, worker = rebuilt_in_worker(job)
    assert type(worker) is SparseTrainer
    expected = conv_channels(build_model(smoke_cfg, nc=3))
    assert conv_channels(worker.model) == conv_channels(original.model) == expected
    assert conv_channels(worker.model) != conv_channels(build_model(Config(), nc=3))  # the override is there
    [sparsity] = callback_objects(worker, "on_pretrain_routine_end", Sparsity)
    assert (sparsity.sl, sparsity.l1, sparsity.schedule) == (0.07, "proximal", "constant")
    assert sparsity.sl == smoke_cfg.sparse.sl and sparsity.out == StudyPaths.of(smoke_cfg).sparse.ultra
    assert callback_objects(worker, "on_train_epoch_end", Sparsity) == [sparsity]
    # The worker builds its own optimizer; the L1 term's hooks come with it (proximal: lr * sl off every gamma).
    worker.sparsity, worker.epoch = sparsity, 0  # what `Sparsity.attach` and the training loop give it
    before = gamma_values(worker.model)
    worker.build_optimizer(worker.model, "SGD", lr=0.1, momentum=0.9, decay=0.0).step()  # no loss gradient
    assert torch.allclose(gamma_values(worker.model), before - 0.1 * 0.07) and before.min() > 0.1 * 0.07
    [precise] = callback_objects(worker, "on_train_epoch_end", PreciseBN)
    assert precise.images == 24
    assert worker.args.nbs == 16 and worker.args.epochs == smoke_cfg.sparse.epochs


def test_pruned_trainer_keeps_the_pruned_model_in_a_ddp_worker(smoke_cfg: Config) -> None:
    target = next(iter(smoke_cfg.prune_targets()))
    model = build_model(smoke_cfg, nc=3)
    with torch.no_grad():  # half the channels of every BatchNorm at zero: a really pruned structure
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight[: len(m.weight) // 2] = 0
    pruned = prune_model(model, threshold=0.5, imgsz=64).model
    save_checkpoint(pruned, StudyPaths.of(smoke_cfg).prune(target).weights)
    original, worker = rebuilt_in_worker(finetune_job(smoke_cfg, target))
    assert type(worker) is PrunedTrainer
    assert conv_channels(worker.model) == conv_channels(original.model) == conv_channels(pruned)
    assert conv_channels(worker.model) != conv_channels(model)
    [precise] = callback_objects(worker, "on_train_epoch_end", PreciseBN)
    assert precise.images == smoke_cfg.train.precise_bn


@pytest.fixture(autouse=True)
def _ddp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ultralytics writes the DDP files under its user config folder: send it to the test's temp folder."""
    import ultralytics.utils.dist as dist

    monkeypatch.setattr(dist, "USER_CONFIG_DIR", tmp_path)
