#!/usr/bin/env bash
# Installs Debian's chromium (prints the HTML report to PDF) and Noto CJK fonts (Chinese in reports
# and figures) where this machine allows it: as root, or with password-less sudo. Never fails:
# without them the HTML report is still built, and the report step says how to get the PDF.
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  SUDO="none"
fi
if [ "$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing chromium and fonts-noto-cjk with apt-get (once)..."
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      chromium fonts-noto-cjk >/dev/null) || echo "apt-get could not install chromium/fonts-noto-cjk."
  rm -rf "${HOME}/.cache/matplotlib"  # rebuild matplotlib's font cache with the new fonts
else
  echo "Note: chromium or fonts-noto-cjk are missing and cannot be installed here (needs root or sudo, and apt)."
  echo "      The HTML report is still written. For the PDF: sudo apt-get install chromium fonts-noto-cjk"
fi
exit 0
