"RL loss and Priority Learning Channel (chapter 08_sampler): priorities, importance weights, policy gradient."
import math

import numpy as np
import pytest
import torch

from conftest import DATA
from signllm.data import read_phoenix
from signllm.core import SignLLMError
from signllm.metrics import dtw_distance
from signllm.sampler import (Curve, PriorityChannel, dtw_reward, final_loss, policy_gradient_loss, time_ratios,
                             time_to_reach)


@pytest.fixture(scope="module")
def sentences():
    return [s.pose.data for s in read_phoenix(DATA / "phoenix14t", "train")]


def test_priorities_follow_the_losses_and_weights_undo_the_bias():
    channel = PriorityChannel(6, batch_size=3, steps=4, beta=1.0, anneal_steps=1, seed=0)
    losses = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 2.0])
    channel.update([0, 1, 2], losses[:3]); channel.update([3, 4, 5], losses[3:])
    p = channel.probabilities()
    assert p.sum() == pytest.approx(1.0) and p.argmax() == 5 and p.min() >= channel.floor / 6
    values = np.arange(6.0)
    unnormalised = (6 * p) ** -channel.beta
    assert (p * unnormalised * values).sum() == pytest.approx(values.mean())  # E_P[w x] = uniform mean
    assert channel.weights([5])[0] < channel.weights([0])[0]
    batches = list(channel)
    assert len(batches) == 4 and all(len(set(b)) == 3 for b in batches)


def test_reward_is_the_improvement_and_unseen_items_come_first():
    channel = PriorityChannel(5, batch_size=2, steps=1, seed=1)
    assert list(channel.update([0, 1], [1.0, 1.0])) == [0.0, 0.0]  # first visit: no improvement known
    rewards = channel.update([0, 1], [0.4, 1.2])
    assert rewards == pytest.approx([0.6, -0.2])
    assert channel.priorities[2:].min() == channel.priorities[:2].max()  # unseen: the largest priority
    seen = set()
    for _ in range(20):
        batch = channel.draw(); seen |= set(batch); channel.update(batch, [0.5] * len(batch))
    assert seen == set(range(5))


def test_channel_is_reproducible_and_checks_its_input():
    a, b = PriorityChannel(10, 4, 5, seed=3), PriorityChannel(10, 4, 5, seed=3)
    assert list(a) == list(b)
    with pytest.raises(SignLLMError): PriorityChannel(0, 4, 5)


def test_policy_gradient_moves_towards_the_reference(sentences):
    ref = sentences[2][:50]
    mean = torch.nn.Parameter(torch.from_numpy(ref).reshape(1, 50, -1) + 0.05)
    reward = dtw_reward([ref], [50])
    distance = lambda: dtw_distance(mean.detach().reshape(50, 50, 3).numpy(), ref)
    before = distance()
    opt = torch.optim.Adam([mean], lr=2e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(60):
        loss, advantage = policy_gradient_loss(mean, torch.ones(1, 50, dtype=torch.bool), reward, sigma=0.02, generator=g)
        assert advantage.shape == (1, 50)  # one reward per frame
        opt.zero_grad(); loss.backward(); opt.step()
    assert distance() < before - 0.002


def test_sequence_level_reward_has_one_value_per_item(sentences):
    refs = [sentences[0][:20], sentences[1][:30]]
    actions = torch.zeros(2, 30, 150)
    actions[0, :20], actions[1, :30] = torch.from_numpy(refs[0]).reshape(20, -1), torch.from_numpy(refs[1]).reshape(30, -1)
    per_item = dtw_reward(refs, [20, 30], per_frame=False)(actions)
    assert per_item.shape == (2,) and torch.allclose(per_item, torch.zeros(2))
    per_frame = dtw_reward(refs, [20, 30])(actions + 0.01)
    assert per_frame.shape == (2, 30) and (per_frame[0, 20:] == 0).all() and (per_frame[:, :20] < 0).all()


def test_time_to_reach_and_ratios():
    uniform = Curve(np.array([1.0, 2, 3, 4]), np.arange(1, 5), np.array([0.9, 0.5, 0.4, 0.4]))
    faster = Curve(np.array([1.0, 2, 3, 4]), np.arange(1, 5), np.array([0.5, 0.3, 0.2, 0.2]))
    never = Curve(np.array([1.0, 2]), np.arange(1, 3), np.array([0.9, 0.8]))
    assert final_loss(uniform) == pytest.approx(np.mean([0.5, 0.4, 0.4]))
    assert time_to_reach(uniform, 0.4) == 3.0
    assert time_ratios([uniform], [faster])[0] == pytest.approx(2 / 3)  # target 0.433: uniform at 3 s, faster at 2 s
    assert math.isnan(time_ratios([uniform], [never])[0])
