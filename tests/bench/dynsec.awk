# SPDX-License-Identifier: MIT
#
# dynsec.awk - the exchange catalogue's policy for a set of identities, written as a
# configuration of Mosquitto's dynamic-security plugin (2.0.11), so that the benchmark
# can compare our plugin with the stock way of expressing the same rules.
#
#   awk -v site=site1 -f dynsec.awk schemas/exchange.tsv passwd > dynamic-security.json
#
# passwd is a file hashed by mosquitto_passwd (lines "<role>.<id>:$7$<iterations>$<salt>$<hash>",
# PBKDF2-SHA512 with a 12-byte salt, both base64): dynsec 2.0.11 stores exactly these
# three values per client (plugins/dynamic-security/clients.c), so every identity has the
# same password and the same hashing cost under both plugins.
#
# Dynsec 2.0.11 has no %u/%c substitution in ACL topics, so rules that name the identity
# live in one role per identity ("id:<role>.<id>"); rules shared by a role live in
# "role:<role>". The translation of SPEC sections 4 and 5:
#   send     for each row from my role: allow gf/<site>/<me>/<to-role>/+/<msg>; if the row
#            is private and <to-role> is not a pool, deny gf/<site>/<me>/<to-role>/all/<msg>
#            first (higher priority); for public rows also allow .../all/all/<msg>.
#   receive  private rows to my role: gf/<site>/<from>/+/<role>/<my-id>/<msg>, and
#            .../<role>/all/<msg> when the role is a pool; public rows that name my role
#            as a reader: gf/<site>/<from>/+/+/+/<msg> (only the catalogue's senders can
#            write those, so the wider filter reads nothing the plugin would refuse).
#            ops reads every public row and $SYS.
#   subscribe any filter under gf/<site>/ (plain or $share), as the plugin allows: what
#            reaches the subscriber is decided per message by the receive rules.
# Not expressible in dynsec 2.0.11: the client-id rule "<role>.<id>[@suffix]" (dynsec only
# pins one exact client id), payload validation, and certificate identities.

BEGIN {
	FS = "\t"
	if (site == "")
		site = "site1"
	split("fman fmar sp kpi", p, " ")
	for (k in p)
		pool[p[k]] = 1
	nrows = 0
	nroles = 0
	nclients = 0
	printf "{\n\"defaultACLAccess\": {\"publishClientSend\": false, " \
	       "\"publishClientReceive\": false, \"subscribe\": false, \"unsubscribe\": true},\n"
	printf "\"groups\": [],\n\"roles\": ["
}

function add_row(from, to, msg, class, broker) {
	nrows++
	rf[nrows] = from; rt[nrows] = to; rm[nrows] = msg; rc[nrows] = class; rb[nrows] = broker
}

# Pass 1: the catalogue, with the ".result" rows of requests.
FNR == NR {
	if ($0 ~ /^#/ || $0 ~ /^[ \t]*$/)
		next
	if (NF != 5) {
		print "dynsec.awk: " FILENAME ":" FNR ": expected 5 fields" > "/dev/stderr"
		failed = 1
		exit 1
	}
	broker = ($5 ~ /(^|,)broker(,|$)/)
	add_row($1, $2, $3, $4, broker)
	if ($5 ~ /(^|,)request(,|$)/)
		add_row($2, $1, $3 ".result", $4, broker)
	next
}

function acl(type, topic, allow, prio) {
	if ((type SUBSEP topic) in seen)
		return
	seen[type, topic] = 1
	printf "%s\n\t{\"acltype\": \"%s\", \"topic\": \"%s\", \"allow\": %s, \"priority\": %d}", \
	       (nacl++ ? "," : ""), type, topic, allow ? "true" : "false", prio
}

function role_open(name) {
	printf "%s\n{\"rolename\": \"%s\", \"acls\": [", (nroles++ ? "," : ""), name
	nacl = 0
	delete seen
}

function role_close() {
	printf "]}"
}

# Pass 2: one identity per line of the hashed password file.
{
	colon = index($0, ":")
	user = substr($0, 1, colon - 1)
	n = split(substr($0, colon + 1), h, "$")
	if (colon < 2 || n != 5 || h[2] != "7") {
		print "dynsec.awk: " FILENAME ":" FNR ": not a $7$ mosquitto_passwd line" > "/dev/stderr"
		failed = 1
		exit 1
	}
	dot = index(user, ".")
	role = substr(user, 1, dot - 1)
	id = substr(user, dot + 1)
	roles_used[role] = 1
	nclients++
	cuser[nclients] = user; crole[nclients] = role
	citer[nclients] = h[3]; csalt[nclients] = h[4]; chash[nclients] = h[5]

	role_open("id:" user)
	for (i = 1; i <= nrows; i++) {
		if (rf[i] != role || rb[i])
			continue
		if (rc[i] == "private" && !(rt[i] in pool))
			acl("publishClientSend", "gf/" site "/" role "/" id "/" rt[i] "/all/" rm[i], 0, 1)
	}
	for (i = 1; i <= nrows; i++) {
		if (rf[i] != role || rb[i])
			continue
		acl("publishClientSend", "gf/" site "/" role "/" id "/" rt[i] "/+/" rm[i], 1, 0)
		if (rc[i] == "public")
			acl("publishClientSend", "gf/" site "/" role "/" id "/all/all/" rm[i], 1, 0)
	}
	for (i = 1; i <= nrows; i++) {
		if (rt[i] == role && rc[i] == "private")
			acl("publishClientReceive", "gf/" site "/" rf[i] "/+/" role "/" id "/" rm[i], 1, 0)
	}
	role_close()
}

END {
	if (failed)
		exit 1
	for (role in roles_used) {
		role_open("role:" role)
		acl("subscribePattern", "gf/" site "/#", 1, 0)
		acl("subscribePattern", "$share/+/gf/" site "/#", 1, 0)
		if (role == "ops") {
			acl("subscribePattern", "$SYS/#", 1, 0)
			acl("publishClientReceive", "$SYS/#", 1, 0)
		}
		for (i = 1; i <= nrows; i++) {
			if (rt[i] == role && rc[i] == "private" && (role in pool))
				acl("publishClientReceive", "gf/" site "/" rf[i] "/+/" role "/all/" rm[i], 1, 0)
			if (rc[i] == "public" && (rt[i] == role || role == "ops"))
				acl("publishClientReceive", "gf/" site "/" rf[i] "/+/+/+/" rm[i], 1, 0)
		}
		role_close()
	}
	printf "\n],\n\"clients\": ["
	for (c = 1; c <= nclients; c++) {
		printf "%s\n{\"username\": \"%s\", \"password\": \"%s\", \"salt\": \"%s\", " \
		       "\"iterations\": %d, \"roles\": [{\"rolename\": \"id:%s\", \"priority\": 1}, " \
		       "{\"rolename\": \"role:%s\", \"priority\": 0}]}", \
		       (c > 1 ? "," : ""), cuser[c], chash[c], csalt[c], citer[c], cuser[c], crole[c]
	}
	printf "\n]\n}\n"
}
