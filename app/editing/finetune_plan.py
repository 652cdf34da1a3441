"""What a fine-tune on corrections will do, said before it starts (Qt-free, so tests read the text).

Training reads the dataset from disk with the corrections folder, takes the labelled images of the train
split (corrections replace their labels) and holds the val split out to measure the result, exactly as
``fcn_core.training.loop`` does; corrections on val therefore do not teach the model anything. The time is
estimated from the model's measured prediction time on this computer: one training iteration is a forward
and a backward pass (about 3 forward passes) over a batch of crops.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FinetunePlan:
    """Counts and estimate behind the message shown before fine-tuning."""

    train_split: str
    val_split: str | None
    train_images: int  # labelled images training will use
    train_corrected: int  # ... of which carry corrections
    val_corrected: int  # corrections on the held-out split (left out of training)
    other_corrected: int  # corrections on images in neither split (left out of training)
    iterations: int | None
    minutes: float | None
    seconds_per_iteration: float | None

    def estimate_s(self) -> float | None:
        """Expected run time in seconds (the iteration budget, capped by the time limit); None: unknown."""
        limit = self.minutes * 60 if self.minutes else None
        if self.seconds_per_iteration is None or not self.iterations:
            return limit
        run = self.iterations * self.seconds_per_iteration
        return min(run, limit) if limit else run

    def message(self) -> str:
        """Plain sentences for the dialog and the status bar."""
        lines = [f"Trains on split '{self.train_split}': {self.train_images} labelled images, "
                 f"{self.train_corrected} of them with your corrections."]
        if self.train_corrected == 0:
            lines.append("No corrected image is in this split, so fine-tuning would only repeat the original "
                         "labels.")
        if self.val_corrected:
            lines.append(f"{self.val_corrected} correction{'s are' if self.val_corrected > 1 else ' is'} on "
                         f"'{self.val_split}' and left out of training: '{self.val_split}' is held out to "
                         "measure the fine-tuned model (move those images to the train split to learn from "
                         "them).")
        if self.other_corrected:
            lines.append(f"{self.other_corrected} correction{'s are' if self.other_corrected > 1 else ' is'} "
                         "on images in no training split and left out.")
        estimate = self.estimate_s()
        if estimate is None:
            lines.append("Estimated time: unknown until the model has predicted one image.")
        else:
            how = []
            if self.iterations and self.seconds_per_iteration is not None:
                how.append(f"{self.iterations} iterations × ~{self.seconds_per_iteration:.1f} s each, from "
                           "this model's prediction time here")
            if self.minutes:
                how.append(f"time limit {self.minutes:g} min")
            lines.append(f"Estimated time: about {format_duration(estimate)} ({'; '.join(how)}; a rough "
                         "guess: the progress window measures it once training runs).")
        return "\n".join(lines)


def format_duration(seconds: float) -> str:
    """"40 s", "3 min", "1 h 20 min"."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def seconds_per_iteration(prediction_s: float | None, image_shape: tuple[int, int] | None, *,
                          batch_size: int, crop: tuple[int, int] | None) -> float | None:
    """One training iteration ≈ 3 forward passes (forward + backward) over ``batch_size`` crops, scaled
    from one measured prediction of an ``image_shape`` image (None when nothing was measured yet)."""
    if not prediction_s or not image_shape or image_shape[0] * image_shape[1] == 0:
        return None
    area = (crop[0] * crop[1]) if crop else image_shape[0] * image_shape[1]
    return 3.0 * batch_size * prediction_s * area / (image_shape[0] * image_shape[1])


def plan_finetune(dataset, *, train_split: str, val_split: str | None, iterations: int | None,
                  minutes: float | None, seconds_per_iter: float | None) -> FinetunePlan:
    """Count what training on ``dataset`` (opened with its corrections folder) will use and leave out."""
    labelled = [s for s in dataset.samples if s.label_path is not None]
    splits = getattr(dataset, "splits", {}) or {}
    if not splits:  # the training loop's rule without split files: a fixed 90/10 split by position
        train = [s for i, s in enumerate(labelled) if i % 10 != 9]
        val = [s for i, s in enumerate(labelled) if i % 10 == 9]
        train_split, val_split = "90% of the images", "every 10th image"
    else:
        train = [s for s in dataset.split(train_split) if s.label_path is not None]
        val = [s for s in dataset.split(val_split) if s.label_path is not None] if val_split in splits else []
    corrected = {s.stem for s in dataset.samples if getattr(s, "corrected", False)}
    train_stems, val_stems = {s.stem for s in train}, {s.stem for s in val}
    return FinetunePlan(
        train_split=train_split, val_split=val_split, train_images=len(train),
        train_corrected=len(corrected & train_stems),
        val_corrected=len((corrected & val_stems) - train_stems),
        other_corrected=len(corrected - train_stems - val_stems), iterations=iterations, minutes=minutes,
        seconds_per_iteration=seconds_per_iter)
