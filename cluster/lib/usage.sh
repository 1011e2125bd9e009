# Shared by the shell scripts (sourced, not run): printing a script's usage
# from its header comment, so the text stays where it is documented.
# shellcheck shell=bash

# usage: prints the usage block of the script that calls it to stderr and
# exits 2 (bad usage). The block is the first run of header comment lines
# indented by three spaces (`#   script ARGS...`, examples after it), up to
# the next line that is not (the blank `#` that ends the paragraph),
# printed as it stands in the file.
usage() {
  awk '!/^#/ { exit }
       /^#   / { print; in_block = 1; next }
       in_block { exit }' "${BASH_SOURCE[1]}" >&2
  exit 2
}
