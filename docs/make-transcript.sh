#!/usr/bin/env bash
# Regenerates docs/transcript.md (and docs/transcript-files/) from docs/transcript.script.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
tmp=$(mktemp -d)
trap 'kill $sink 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$PY -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Sink & sink=$!
$PY - "$tmp/logo.png" <<'PYEOF'
import sys
from PIL import Image, ImageDraw
im = Image.new("RGB", (420, 160), "white")
d = ImageDraw.Draw(im)
d.ellipse((10, 10, 150, 150), fill="#2e7d32")
d.text((175, 65), "STUDIO VOS", fill="#2e7d32")
im.save(sys.argv[1])
PYEOF
sed "s#^:photo LOGO#:photo $tmp/logo.png#" docs/transcript.script > "$tmp/script"
rm -rf docs/transcript-files
KLERK_DATA_DIR="$tmp/data" KLERK_SMTP_RELAY_HOST=127.0.0.1 KLERK_SMTP_RELAY_PORT=$port \
KLERK_SMTP_RELAY_STARTTLS=false KLERK_SMTP_FROM=facturen@klerk.localhost \
  .venv/bin/klerk chat --script "$tmp/script" --transcript docs/transcript.body.md
{
  echo "# A session with Klerk, from the first /start to a sent invoice"
  echo
  echo "Made by \`docs/make-transcript.sh\`: the real bot, driven through \`klerk chat --script docs/transcript.script\`"
  echo "(a local Bot API double instead of Telegram, a local SMTP sink instead of a mail server). **Ik** is the"
  echo "freelancer; quoted lines are Klerk; \`buttons\` are the buttons under a message."
  echo
  cat docs/transcript.body.md
} > docs/transcript.md
rm docs/transcript.body.md
# page 1 of every PDF the bot sent, as a picture under its line
$PY - <<'PYEOF'
from pathlib import Path
from core.rendering import render_preview_png
md = Path("docs/transcript.md")
text = md.read_text()
for pdf in sorted(Path("docs/transcript-files").glob("*.pdf")):
    png = pdf.with_suffix(".png")
    png.write_bytes(render_preview_png(pdf.read_bytes(), width_px=800))
    text = text.replace(f"📎 `{pdf.name}`", f"📎 `{pdf.name}`\n\n![{pdf.name}](transcript-files/{png.name})")
md.write_text(text)
PYEOF
echo "docs/transcript.md written"
