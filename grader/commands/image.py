"""`grader image build`: the runner image (with the rubric's packages) or the service image, on an
optional base."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from grader.errors import CommandError
from grader.grading.report import InfrastructureError
from grader.grading.rubric_loader import load_rubric
from grader.runner.image import build_args, prepare_context
from grader.runner.sandbox import DockerSandbox
from grader.settings import Settings


def image_build_command(args: argparse.Namespace, settings: Settings) -> int:
    rubric = load_rubric(args.rubric or settings.grading.rubric_path)
    tag = args.tag or ((rubric.image or settings.runner.image) if args.target == "runner" else "grader-service:latest")

    def show(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        with tempfile.TemporaryDirectory(prefix="grader-image-") as folder:
            context = prepare_context(Path(folder), ca_bundle=settings.runner.build_ca_bundle)
            asyncio.run(DockerSandbox(settings.runner).build_image(
                context, tag=tag, target=args.target,
                build_args=build_args(rubric.packages, args.base, rubric.system_packages, rubric.node_packages),
                on_line=show))
    except InfrastructureError as exc:
        raise CommandError(str(exc)) from None
    print(f"built {tag}")
    return 0
