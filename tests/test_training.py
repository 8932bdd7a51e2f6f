"Training plumbing (nbs/03c_training_appendix): Ctrl-C during a Lightning fit, and the second process beside a block."
import os
import signal

import pytest
import pytorch_lightning as pl
import torch

from signllm.core import SignLLMError
from signllm.training import make_trainer, quiet_lightning, second_process


class Interrupted(pl.LightningModule):
    "Raises KeyboardInterrupt in its first step, as Ctrl-C arriving there would."
    def __init__(self): super().__init__(); self.w = torch.nn.Parameter(torch.zeros(1))
    def training_step(self, batch, i): raise KeyboardInterrupt
    def configure_optimizers(self): return torch.optim.SGD(self.parameters(), lr=0.1)


def test_ctrl_c_during_fit_stays_a_keyboard_interrupt():
    "Lightning alone turns Ctrl-C into sys.exit(1) and then ignores Ctrl-C; the kit's trainer does neither."
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(2), torch.ones(2)))
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), quiet_lightning():
        make_trainer(max_epochs=1).fit(Interrupted(), data)
    assert signal.getsignal(signal.SIGINT) == before


def test_second_process_result_error_and_death():
    with second_process(os.getpid) as other:
        assert other() != os.getpid()
    with second_process(int, "x") as broken, pytest.raises(ValueError, match="invalid literal"):
        broken()  # the other process's exception, raised in this one
    with second_process(os._exit, 3) as dead, pytest.raises(SignLLMError, match="exit code 3"):
        dead()  # it died without answering: a one-line error, not a wait forever


def test_second_process_refuses_a_notebook_function(monkeypatch):
    "A function defined in a notebook (module __main__ without a file) cannot be found by a fresh process: say so first."
    import sys, types
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # what a Jupyter kernel looks like
    def square(x): return x * x
    square.__module__ = "__main__"
    with pytest.raises(SignLLMError, match="defined in a notebook"):
        with second_process(square, 3): pass
