"""`parallel-corpus add`: articles, or the rows of a news dump, into a corpus folder.

Flags in, one call of `intake.add.add`; each article it refuses is a
`warning:` line on stderr, and a refusal of the whole add is the group's
one `error:` line and exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from parallel_corpus.intake.add import AddOptions, add as run_add
from parallel_corpus.intake.dumps import FORMATS


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="PATH...")
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("corpus"), show_default=True, help="Corpus folder to add to (it needs dataset.yaml, languages.yaml and cleaning.yaml; raw/ and sources.jsonl are created).")
@click.option("--language", default=None, metavar="CODE", help="ISO 639-1 code of every article (a language of languages.yaml); without it each article's language is detected and recorded as detected, or null when unsure.")
@click.option("--encoding", default=None, metavar="CODEC", help="Codec of files that are not UTF-8 (recorded in sources.jsonl), or of the dump with --from.")
@click.option("--outlet", default=None, help="Publishing outlet of every article.")
@click.option("--url", default=None, metavar="URL|FIELD", help="Address of the one article given; with --from, the column or element holding each article's address.")
@click.option("--published", default=None, metavar="DATE|FIELD", help="Publication date (YYYY-MM-DD) of the articles; with --from, the column or element holding each article's date (ISO or RFC 2822).")
@click.option("--license", "license_", default=None, help="Licence of every article's text (null when not given: never guessed).")
@click.option("--from", "fmt", type=click.Choice(FORMATS), default=None, help="Read each PATH (or each file of a folder) as a dump of this format: one article per row (tsv, csv with a header; jsonl) or per <DOC> (trec).")
@click.option("--text", "text_field", default=None, metavar="FIELD", help="With --from: the column, key or element holding each article's text (required).")
@click.option("--title", "title_field", default=None, metavar="FIELD", help="With --from: the column, key or element holding each article's title (written as its first line).")
@click.option("--id", "id_field", default=None, metavar="FIELD", help="With --from: the column, key or element whose value is each article's id (default: NNN_<sha256 prefix>, as its raw file).")
@click.option("--outlet-field", default=None, metavar="FIELD", help="With --from: the column, key or element holding each article's outlet (wins over --outlet).")
@click.option("--strict", is_flag=True, help="Refuse the whole add, writing nothing, if any article or row cannot be added (by default it is named and skipped).")
def add(paths: tuple[Path, ...], corpus_dir: Path, language: Optional[str], encoding: Optional[str], outlet: Optional[str], url: Optional[str],
        published: Optional[str], license_: Optional[str], fmt: Optional[str], text_field: Optional[str], title_field: Optional[str],
        id_field: Optional[str], outlet_field: Optional[str], strict: bool) -> None:
    """Copy articles into CORPUS/raw/ and append their lines to
    CORPUS/sources.jsonl: sha256, codec and language decided as the build
    reads them; bytes already in the corpus are refused. All of it is
    written, or nothing.

    Each PATH is an article file, or a folder of them; with --from, a dump
    whose rows or documents each become one raw file (title, blank line,
    text). An article that cannot be added is named on a `warning:` line
    and skipped (--strict: nothing is added); exit 1 when nothing is added.

    \b
    Examples:
      parallel-corpus add article.txt --language sw --outlet "BBC Swahili" --published 2022-09-08
      parallel-corpus add --from tsv --text text --title headline --url url --language sw masakhanews.tsv
      parallel-corpus add --from trec --text TEXT --title TITLE --url URL --published TIME --id DOCNO ant/
    """
    dump = fmt is not None
    options = AddOptions(
        language=language, encoding=encoding, outlet=outlet, license=license_, fmt=fmt, strict=strict,
        url=None if dump else url, published=None if dump else published,
        text_field=text_field, title_field=title_field, id_field=id_field, outlet_field=outlet_field,
        url_field=url if dump else None, published_field=published if dump else None,
    )
    result = run_add(corpus_dir, paths, options, warn=lambda line: click.echo(f"warning: {line}", err=True))
    click.echo(result.summary())
