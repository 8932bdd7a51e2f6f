"""Notebook-first educational research kit for sign language AI: keypoints, sign production and sign translation, chapter by chapter

Modules:

- `signllm.animate`: Any `Pose` performed by the person of the reference photo: each part's pixels mapped by a keypoint-driven warp, hands the photo cannot give drawn in her skin tone, the motion retargeted to her proportions.
- `signllm.appearance`: `render_appearance` (what `signllm render POSE --appearance [PHOTO]` calls), `play_appearance` (the notebook player the lessons use) and `appearance_main`: the plumbing around the renderer of `10a_appearance_frames`.
- `signllm.appearance_eval`: The signer's own keypoints drive her first frame; every rendered frame is compared with the true one inside the signing region, next to two trivial baselines: the photo held still and the skeleton drawing.
- `signllm.training`: Safetensors files with checked headers, configuration checks, resuming a run, and the one place where a Lightning `Trainer` is built (an appendix: the trainers of chapters 04, 07 and 09 all use it)."""

__version__ = "0.1.0"
