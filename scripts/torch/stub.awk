# stub.awk: replace the bodies of the C API wrappers that a compiler
# rejected with a thrown std::runtime_error, keeping each C signature, so
# that gotch's libtch builds against a libtorch other than the one it was
# generated for.
#
# Usage: awk -v file=NAME -v torch=VERSION -v list=STUBBED -f stub.awk ERRORS SOURCE > OUT
#
#   ERRORS  the compiler's diagnostics (g++ -fsyntax-only or a failed build)
#   SOURCE  the C++ source to patch; NAME is its base name as the compiler
#           reports it (torch_api.cpp or torch_api_generated.cpp.h)
#   STUBBED a file to which the names of the stubbed functions are appended
#
# A line of SOURCE is at fault when a diagnostic "NAME:LINE:COL: error:" or
# "NAME:LINE:COL:   required from here" names it. The function around it is
# stubbed when it is one of the exported C wrappers (at_*, atg_*, ato_*,
# atm_*, ati_*, atc_*, ats_*, and ebm_* of scripts/torch/ebm_extra.cpp): a top-level definition that starts in column 0 and
# ends at the next "}" in column 0 (or on its own line). Its body becomes
#
#	{ PROTECT(throw std::runtime_error("...");) return {}; }
#
# so the wrapper sets gotch's last error like any other libtorch failure and
# the Go side gets an error, never an abort. The replacement keeps the line
# count, so diagnostics of a later pass still point at the right lines.
# Lines outside such wrappers are left alone: if they are at fault the next
# build fails and the setup script reports it.

FNR == NR {
	# Diagnostics. File names may carry a directory.
	if (match($0, /^[^: ]*:[0-9]+:[0-9]+:/)) {
		loc = substr($0, 1, RLENGTH)
		rest = substr($0, RLENGTH + 1)
		n = split(loc, f, ":")
		path = f[1]
		sub(/.*\//, "", path)
		if (path == file && (rest ~ /^ (fatal )?error:/ || rest ~ /^ +required from here/)) {
			bad[f[2] + 0] = 1
		}
	}
	next
}

{
	src[FNR] = $0
	nsrc = FNR
}

function wrapper_name(line,    m) {
	if (line !~ /^[A-Za-z_]/ || line ~ /^(template|using|typedef|#|static )/)
		return ""
	if (match(line, /(^|[ *])(at|atg|ato|atm|ati|atc|ats|ebm)_[A-Za-z0-9_]*\(/)) {
		m = substr(line, RSTART, RLENGTH - 1)
		sub(/^[ *]/, "", m)
		return m
	}
	return ""
}

END {
	i = 1
	while (i <= nsrc) {
		name = wrapper_name(src[i])
		if (name == "") {
			print src[i]
			i++
			continue
		}
		# Find the line with the opening brace, then the end of the body.
		open = i
		while (open <= nsrc && index(src[open], "{") == 0)
			open++
		if (open > nsrc) {
			print src[i]
			i++
			continue
		}
		last = open
		if (src[open] !~ /}[ \t]*$/ || open != i && src[open] ~ /^{/) {
			last = open + 1
			while (last <= nsrc && src[last] !~ /^}/)
				last++
		}
		if (last > nsrc) {
			print src[i]
			i++
			continue
		}
		hit = 0
		for (k = i; k <= last; k++)
			if (k in bad)
				hit = 1
		if (!hit) {
			for (k = i; k <= last; k++)
				print src[k]
			i = last + 1
			continue
		}
		# Signature: everything before the first "{".
		sig = ""
		for (k = i; k < open; k++)
			sig = sig src[k] "\n"
		head = src[open]
		sig = sig substr(head, 1, index(head, "{") - 1)
		ret = src[i]
		sub(/[A-Za-z0-9_]*\(.*/, "", ret)
		gsub(/[ \t]+$/, "", ret)
		body = "PROTECT(throw std::runtime_error(\"" name " is not available in libtorch " torch " (stubbed by scripts/torch/setup.sh)\");)"
		if (ret != "void")
			body = body " return {};"
		out = sig "{ " body " }"
		# Keep the line count: pad with empty lines.
		nl = gsub(/\n/, "\n", out)
		printf "%s\n", out
		for (k = nl + 1; k <= last - i; k++)
			print ""
		print name >> list
		i = last + 1
	}
}
