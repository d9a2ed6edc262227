"""Pushing a release to the Hugging Face Hub, tagged with its version.

The plan (which repository, which files with which sha256, which tag) is
computed first and is what `--dry-run` prints, so a maintainer sees exactly
what would be sent; the push then carries out that plan with
`huggingface_hub`. A release goes only to the repository its card tells
users to load it from (the card's Loading section, written by `publish
--push`), since the card is part of the release's bytes. The token comes from `HF_TOKEN` and is never printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from parallel_corpus.files import sha256_file
from parallel_corpus.release.card import hub_repo_of_card
from parallel_corpus.release.publish import CHECKSUMS, release_files
from parallel_corpus.errors import Error

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


class PushError(Error, RuntimeError):
    """The release cannot be pushed; nothing was sent."""


@dataclass(frozen=True)
class PushPlan:
    repo_id: str
    folder: Path
    version: str
    files: dict[str, str]  # path in the release -> sha256
    # A new repository is private unless asked otherwise: the card tells
    # users to check each outlet's terms before the text is shared further.
    private: bool = True

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    def describe(self) -> list[str]:
        total = sum((self.folder / name).stat().st_size for name in self.files)
        lines = [f"would create (if missing) {'private' if self.private else 'public'} dataset repository {self.repo_id}"]
        lines += [f"would upload {name}  sha256 {digest}" for name, digest in sorted(self.files.items())]
        lines.append(f"would tag the upload commit {self.tag}  ({len(self.files)} files, {total} bytes)")
        return lines


def plan_push(release: Path, repo_id: str, private: bool = True) -> PushPlan:
    release = Path(release)
    if not _REPO_ID.match(repo_id):
        raise PushError(f"{repo_id!r} is not a Hub dataset id: use ORG/NAME")
    if not (release / "README.md").is_file():
        raise PushError(f"{release}: not a release folder: run `parallel-corpus publish` first")
    version = release.name.lstrip("v")
    named = hub_repo_of_card((release / "README.md").read_text(encoding="utf-8", errors="replace"))
    if named != repo_id:
        where = f"the Hub dataset {named}" if named else "its release folder"
        raise PushError(
            f"{release}/README.md tells users to load this release from {where}, not {repo_id}: a published card is never "
            f"rewritten; publish a new version with --push {repo_id} (or hub_repo: {repo_id} in corpus/dataset.yaml)"
        )
    files = release_files(release)
    files[CHECKSUMS] = sha256_file(release / CHECKSUMS)
    return PushPlan(repo_id, release, version, files, private)


def push(plan: PushPlan) -> str:
    """Upload the release and tag it; returns the commit URL."""
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError

    # HF_TOKEN, else the token `hf auth login` saved: as every Hub tool finds it.
    token = get_token()
    if not token:
        raise PushError("no Hub token: run `hf auth login` (or export HF_TOKEN) with a write token")

    api = HfApi(token=token)
    try:
        api.create_repo(plan.repo_id, repo_type="dataset", private=plan.private, exist_ok=True)
        info = api.upload_folder(
            folder_path=str(plan.folder), repo_id=plan.repo_id, repo_type="dataset",
            commit_message=f"Release {plan.tag}", allow_patterns=sorted(plan.files),
        )
        api.create_tag(plan.repo_id, tag=plan.tag, repo_type="dataset", revision=info.oid, tag_message=f"Release {plan.tag}")
    except HfHubHTTPError as exc:
        raise PushError(f"the Hub refused the push of {plan.tag} to {plan.repo_id}: {str(exc).splitlines()[0]}") from None
    except Exception as exc:  # transport errors (httpx, OSError) reach us under many names
        raise PushError(f"cannot reach the Hub to push {plan.tag}: {type(exc).__name__}: {exc}") from None
    return str(info.commit_url)
