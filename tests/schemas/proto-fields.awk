# SPDX-License-Identifier: MIT
# Lists what the schemas declare, for tests/schemas/schemas_test.sh. Reads
# .proto files written in the style of schemas/ (one declaration per line,
# braces at the ends of lines, package goflex) and prints, tab-separated:
#   M  <message>                                    a message type
#   E  <enum>                                       an enum type
#   V  <enum>  <value>                              an enum value
#   F  <message>  <field>  <label>  <kind>  <type>  <file:line>  <commented>
#      label: required, optional, repeated or map; kind: scalar, message, enum
#      or map; type: the scalar type or the resolved message/enum name;
#      commented: 1 if a comment is on the field's line or the line above.
#   H  <file>  <syntax>  <package>                  each file's header
# Names are relative to the package: FlexOffer, FoaReply.Ack.
function scope(    s, i) {
	s = ""
	for (i = 1; i <= depth; i++) s = s (i > 1 ? "." : "") stack[i]
	return s
}
function flush_header() {
	if (hdr_file != "") print "H\t" hdr_file "\t" syntax "\t" package
}
FNR == 1 {
	flush_header()
	hdr_file = FILENAME; syntax = "-"; package = "-"; depth = 0; prev_comment = 0
	sub(/.*\//, "", hdr_file)
}
{
	line = $0
	comment = (line ~ /\/\//)
	sub(/[ \t]*\/\/.*/, "", line)
	gsub(/^[ \t]+|[ \t]+$/, "", line)
	if (line == "") {
		prev_comment = comment
		next
	}
}
line ~ /^syntax[ \t]*=/ { s = line; gsub(/.*=[ \t]*"|";.*/, "", s); syntax = s }
line ~ /^package[ \t]/ { p = line; sub(/^package[ \t]+/, "", p); sub(/;.*/, "", p); package = p }
line ~ /^(message|enum)[ \t]+[A-Za-z0-9_]+[ \t]*\{$/ {
	split(line, w, /[ \t{]+/)
	stack[++depth] = w[2]
	is_enum[depth] = (w[1] == "enum")
	if (w[1] == "enum")
		known_e[scope()] = 1
	else
		known_m[scope()] = 1
	print (w[1] == "enum" ? "E" : "M") "\t" scope()
	prev_comment = comment
	next
}
line ~ /^\}/ { depth--; prev_comment = comment; next }
depth > 0 && is_enum[depth] && line ~ /^[A-Za-z_][A-Za-z0-9_]*[ \t]*=/ {
	v = line; sub(/[ \t]*=.*/, "", v)
	print "V\t" scope() "\t" v
}
depth > 0 && !is_enum[depth] && line ~ /^(required|optional|repeated)[ \t]/ {
	split(line, w, /[ \t]+/)
	t = w[2]; sub(/^goflex\./, "", t)
	nf++
	f_scope[nf] = scope(); f_name[nf] = w[3]; f_label[nf] = w[1]; f_type[nf] = t
	f_where[nf] = hdr_file ":" FNR; f_comm[nf] = (comment || prev_comment)
}
depth > 0 && !is_enum[depth] && line ~ /^map[ \t]*</ {
	t = line; sub(/^map[ \t]*/, "", t); sub(/>.*/, ">", t); gsub(/[ \t]/, "", t)
	n = line; sub(/^map[ \t]*<[^>]*>[ \t]*/, "", n); sub(/[ \t=].*/, "", n)
	nf++
	f_scope[nf] = scope(); f_name[nf] = n; f_label[nf] = "map"; f_type[nf] = t
	f_where[nf] = hdr_file ":" FNR; f_comm[nf] = (comment || prev_comment)
}
{ prev_comment = comment }
# Messages and enums are known only at the end: resolve field types then, from
# the innermost scope outwards, as protoc does.
END {
	flush_header()
	split("double float int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 " \
	      "sfixed32 sfixed64 bool string bytes", sc, " ")
	for (i in sc) scalar[sc[i]] = 1
	for (i = 1; i <= nf; i++) {
		t = f_type[i]
		if (f_label[i] == "map") {
			kind = "map"; res = t
		} else if (t in scalar) {
			kind = "scalar"; res = t
		} else {
			res = ""; s = f_scope[i]
			while (1) {
				c = (s == "" ? t : s "." t)
				if (c in known_m || c in known_e) { res = c; break }
				if (s == "") break
				if (s ~ /\./) sub(/\.[^.]*$/, "", s); else s = ""
			}
			kind = (res == "" ? "unknown" : (res in known_e ? "enum" : "message"))
			if (res == "") res = t
		}
		print "F\t" f_scope[i] "\t" f_name[i] "\t" f_label[i] "\t" kind "\t" res "\t" \
		      f_where[i] "\t" f_comm[i]
	}
}
