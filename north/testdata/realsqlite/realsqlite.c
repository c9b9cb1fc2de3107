// realsqlite: SQLite (the Debian libsqlite3.a, linked statically) on
// files in the directory argv[1]: rollback journal (DELETE), WAL with its
// shared -shm mapping and fcntl byte-range locks, two processes writing
// at once in either mode, integrity checks, and a reopen after a child
// process died holding the database open. Prints what it reads back;
// compared line for line with a native run.
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[512];

static void die(sqlite3 *db, const char *what) {
	printf("FAIL %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	fflush(stdout);
	_exit(1);
}

static void fail_errno(const char *what) {
	printf("FAIL %s: %s\n", what, strerror(errno));
	fflush(stdout);
	_exit(1);
}

static sqlite3 *open_db(const char *name) {
	char path[600];
	sqlite3 *db;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(db, "open");
	sqlite3_busy_timeout(db, 60000);
	return db;
}

// spawn runs this program again in a child process, as role with the
// descriptors in and out: SQLite's state must not cross a fork (a child
// inherits the parent's view of its locks), so a process of its own
// opens the database afresh.
static pid_t spawn(const char *role, int in, int out) {
	pid_t pid = fork();
	if (pid == 0) {
		char a[16], b[16];
		snprintf(a, sizeof a, "%d", in);
		snprintf(b, sizeof b, "%d", out);
		// The child keeps only its own ends of the pipes.
		for (int fd = 3; fd < 64; fd++)
			if (fd != in && fd != out)
				close(fd);
		execl("/proc/self/exe", "realsqlite", dir, role, a, b, (char *)0);
		fail_errno("exec");
	}
	if (pid < 0)
		fail_errno("fork");
	return pid;
}

// reap waits for pid and fails unless it exited with status 0.
static void reap(pid_t pid, const char *role) {
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("FAIL %s: status %#x\n", role, st);
		exit(1);
	}
}

// row prints each row: the columns separated by '|'.
static int row(void *tag, int n, char **v, char **col) {
	(void)col;
	printf("%s:", (const char *)tag);
	for (int i = 0; i < n; i++)
		printf("%s%s", i ? "|" : " ", v[i] ? v[i] : "NULL");
	printf("\n");
	return 0;
}

static void exec(sqlite3 *db, const char *tag, const char *sql) {
	char *err = 0;
	if (sqlite3_exec(db, sql, tag ? row : 0, (void *)tag, &err) != SQLITE_OK) {
		printf("FAIL %s: %s: %s\n", tag ? tag : "exec", sql, err);
		fflush(stdout);
		_exit(1);
	}
	fflush(stdout);
}

// writer inserts n rows for who, one transaction each, with a busy wait
// on the other writer's locks.
static void writer(const char *name, int who, int n) {
	sqlite3 *db = open_db(name);
	char sql[256];
	for (int i = 0; i < n; i++) {
		snprintf(sql, sizeof sql,
			 "BEGIN IMMEDIATE; INSERT INTO t(who, k, v) VALUES (%d, %d, hex(randomblob(40))); "
			 "UPDATE c SET n = n + 1; COMMIT;",
			 who, i);
		exec(db, 0, sql);
	}
	sqlite3_close(db);
}

static void concurrent(const char *name, const char *mode) {
	sqlite3 *db = open_db(name);
	char sql[256];
	snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s;", mode);
	exec(db, "journal_mode", sql);
	exec(db, 0, "CREATE TABLE t(id INTEGER PRIMARY KEY, who INT, k INT, v TEXT);"
		    "CREATE TABLE c(n INT); INSERT INTO c VALUES (0);");
	sqlite3_close(db);
	pid_t kids[2];
	for (int w = 0; w < 2; w++) {
		kids[w] = fork();
		if (kids[w] == 0) {
			writer(name, w + 1, 60);
			_exit(0);
		}
	}
	for (int w = 0; w < 2; w++) {
		int st;
		if (waitpid(kids[w], &st, 0) != kids[w] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("FAIL writer %d status %#x\n", w + 1, st);
			exit(1);
		}
	}
	db = open_db(name);
	exec(db, mode, "SELECT who, count(*), min(k), max(k), sum(k), count(DISTINCT v) FROM t GROUP BY who ORDER BY who;");
	exec(db, mode, "SELECT n, (SELECT count(*) FROM t), (SELECT max(id) FROM t) FROM c;");
	exec(db, mode, "PRAGMA integrity_check;");
	sqlite3_close(db);
}

// grow makes a database grow under a 64 MiB mapping of it (SQLite remaps
// it with mremap as it grows) and a WAL long enough that the -shm file
// grows past its first 32 KiB region while a forked process maps it too.
static void grow(void) {
	sqlite3 *db = open_db("grow.db");
	exec(db, "grow", "PRAGMA page_size=512; PRAGMA mmap_size=67108864; PRAGMA journal_mode=WAL;");
	exec(db, 0, "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=20; CREATE TABLE g(k INTEGER PRIMARY KEY, v TEXT);");
	// A child holds its own connection (its own mappings of the
	// database and the -shm file) open across the parent's growth and
	// reads after each round; another child opens afresh each round.
	int go[2], done[2];
	if (pipe(go) || pipe(done))
		fail_errno("pipe");
	pid_t holder = spawn("holder", go[0], done[1]);
	close(go[0]);
	close(done[1]);
	for (int round = 0; round < 4; round++) {
		char sql[512], b;
		snprintf(sql, sizeof sql,
			 "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 3000) "
			 "INSERT INTO g SELECT %d * 3000 + i, printf('%%d-%%s', i, hex(zeroblob(40 + i %% 60))) FROM s;",
			 round);
		exec(db, 0, sql);
		if (write(go[1], "x", 1) != 1 || read(done[0], &b, 1) != 1)
			fail_errno("holder");
		reap(spawn("fresh", -1, -1), "fresh");
	}
	close(go[1]);
	reap(holder, "holder");
	char path[600];
	snprintf(path, sizeof path, "%s/grow.db-shm", dir);
	FILE *f = fopen(path, "r");
	fseek(f, 0, SEEK_END);
	printf("shm size: %ld\n", ftell(f));
	fclose(f);
	exec(db, "grow", "PRAGMA wal_checkpoint(TRUNCATE);");
	exec(db, "grow", "SELECT count(*), sum(k), sum(length(v)), (SELECT v FROM g WHERE k = 7777) FROM g;");
	exec(db, 0, "DELETE FROM g WHERE k % 2 = 0; PRAGMA wal_checkpoint(TRUNCATE); VACUUM;");
	exec(db, "shrunk", "SELECT count(*), sum(k) FROM g; PRAGMA integrity_check;");
	sqlite3_close(db);
}

// spill sorts and indexes more than the page cache holds: SQLite's
// temporary files, opened and unlinked at once in /tmp.
static void spill(void) {
	sqlite3 *db = open_db("spill.db");
	exec(db, 0, "PRAGMA cache_size=10; PRAGMA temp_store=FILE; PRAGMA journal_mode=TRUNCATE;");
	exec(db, 0, "CREATE TABLE s(a INT, b TEXT);"
		    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 20000) "
		    "INSERT INTO s SELECT (i * 7919) % 20011, printf('%06d', (i * 104729) % 1000003) FROM r;");
	exec(db, 0, "CREATE INDEX s_b ON s(b);");
	exec(db, "spill", "SELECT a, b FROM s ORDER BY b DESC, a LIMIT 3;");
	exec(db, "spill", "SELECT count(DISTINCT a), count(DISTINCT b) FROM s;");
	exec(db, "spill", "SELECT sum(x) FROM (SELECT a * 2 AS x FROM s UNION SELECT a FROM s);");
	exec(db, "spill", "PRAGMA integrity_check;");
	sqlite3_close(db);
	char path[600];
	snprintf(path, sizeof path, "%s/spill.db-journal", dir);
	struct stat st;
	printf("truncated journal: %s %lld\n", stat(path, &st) == 0 ? "present" : "absent", stat(path, &st) == 0 ? (long long)st.st_size : -1LL);
}

// exclusive holds a database with locking_mode=EXCLUSIVE: another
// process's writes and reads are refused with SQLITE_BUSY (the fcntl
// locks stay held), and succeed once the holder closes it.
static void exclusive(void) {
	sqlite3 *db = open_db("excl.db");
	exec(db, 0, "PRAGMA locking_mode=EXCLUSIVE; CREATE TABLE e(x); INSERT INTO e VALUES (1);");
	int p[2], q[2];
	if (pipe(p) || pipe(q))
		fail_errno("pipe");
	pid_t pid = spawn("excl", p[0], q[1]);
	char b;
	if (read(q[0], &b, 1) != 1)
		fail_errno("read");
	sqlite3_close(db);
	if (write(p[1], "x", 1) != 1)
		fail_errno("write");
	reap(pid, "excl");
}

// role runs the part of a child process spawned as name.
static void role(const char *name, int in, int out) {
	sqlite3 *c;
	char b;
	if (strcmp(name, "walchild") == 0) {
		// Its own connection: its own mapping of the -shm file.
		c = open_db("wal.db");
		exec(c, "child", "SELECT count(*), max(k), (SELECT v FROM w WHERE k = 1000) FROM w;");
		exec(c, 0, "INSERT INTO w VALUES (1001, 'from child');");
	} else if (strcmp(name, "holder") == 0) {
		c = open_db("grow.db");
		exec(c, "holder", "SELECT count(*) FROM g;");
		while (read(in, &b, 1) == 1) {
			exec(c, "holder", "SELECT count(*), max(k), sum(length(v)) FROM g;");
			if (write(out, "x", 1) != 1)
				fail_errno("write");
		}
	} else if (strcmp(name, "fresh") == 0) {
		c = open_db("grow.db");
		exec(c, "fresh", "SELECT count(*), max(k), sum(length(v)) FROM g;");
	} else if (strcmp(name, "excl") == 0) {
		c = open_db("excl.db");
		sqlite3_busy_timeout(c, 0);
		int rc = sqlite3_exec(c, "SELECT count(*) FROM e;", 0, 0, 0);
		printf("other reader while held: %s\n", sqlite3_errstr(rc));
		rc = sqlite3_exec(c, "INSERT INTO e VALUES (2);", 0, 0, 0);
		printf("other writer while held: %s\n", sqlite3_errstr(rc));
		if (write(out, "x", 1) != 1 || read(in, &b, 1) != 1)
			fail_errno("pipe");
		sqlite3_busy_timeout(c, 60000);
		exec(c, 0, "INSERT INTO e VALUES (3);");
		exec(c, "after release", "SELECT group_concat(x) FROM e;");
	} else {
		printf("FAIL unknown role %s\n", name);
		exit(1);
	}
	sqlite3_close(c);
}

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "/tmp");
	if (argc == 5) {
		role(argv[2], atoi(argv[3]), atoi(argv[4]));
		return 0;
	}
	printf("sqlite %s\n", sqlite3_libversion());

	// Rollback journal: a schema, a transaction of rows, an index, a
	// rolled back change, an aggregate, VACUUM.
	sqlite3 *db = open_db("delete.db");
	exec(db, "mode", "PRAGMA journal_mode=DELETE;");
	exec(db, 0, "CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT, n REAL);");
	exec(db, 0, "BEGIN; WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 2000) "
		    "INSERT INTO kv SELECT i, printf('row-%05d-%s', i, substr('abcdefghij', 1 + i % 10)), i * 1.5 FROM s; COMMIT;");
	exec(db, 0, "CREATE INDEX kv_v ON kv(v);");
	exec(db, 0, "BEGIN; DELETE FROM kv WHERE k % 3 = 0; ROLLBACK;");
	exec(db, 0, "BEGIN; DELETE FROM kv WHERE k % 7 = 0; UPDATE kv SET v = upper(v) WHERE k % 11 = 0; COMMIT;");
	exec(db, "delete", "SELECT count(*), sum(k), sum(n), max(v), min(v) FROM kv;");
	exec(db, "delete", "SELECT k, v FROM kv WHERE v LIKE 'ROW-0099%' ORDER BY v;");
	exec(db, 0, "VACUUM;");
	exec(db, "delete", "PRAGMA integrity_check;");
	exec(db, "delete", "PRAGMA page_count;");
	sqlite3_close(db);
	char path[600];
	snprintf(path, sizeof path, "%s/delete.db-journal", dir);
	printf("journal left: %s\n", access(path, F_OK) == 0 ? "yes" : "no");

	// WAL: the readers see a snapshot while a writer adds rows, through the
	// -shm mapping both connections share; a checkpoint moves the log into
	// the database.
	db = open_db("wal.db");
	exec(db, "mode", "PRAGMA journal_mode=WAL;");
	exec(db, 0, "PRAGMA wal_autocheckpoint=0; CREATE TABLE w(k INTEGER PRIMARY KEY, v BLOB);");
	exec(db, 0, "BEGIN; WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 500) "
		    "INSERT INTO w SELECT i, zeroblob(100 + i) FROM s; COMMIT;");
	sqlite3 *rd = open_db("wal.db");
	exec(rd, 0, "BEGIN;");
	exec(rd, "reader", "SELECT count(*), sum(length(v)) FROM w;");
	exec(db, 0, "INSERT INTO w VALUES (1000, 'late');");
	exec(rd, "reader snapshot", "SELECT count(*) FROM w;");
	exec(rd, 0, "COMMIT;");
	exec(rd, "reader after", "SELECT count(*) FROM w;");
	// A child process reads through its own connection, its own mapping
	// of the -shm file.
	reap(spawn("walchild", -1, -1), "walchild");
	exec(rd, "parent sees", "SELECT v FROM w WHERE k = 1001;");
	exec(db, "checkpoint", "PRAGMA wal_checkpoint(TRUNCATE);");
	snprintf(path, sizeof path, "%s/wal.db-wal", dir);
	FILE *f = fopen(path, "r");
	long walsize = -1;
	if (f) {
		fseek(f, 0, SEEK_END);
		walsize = ftell(f);
		fclose(f);
	}
	printf("wal size after truncate: %ld\n", walsize);
	exec(db, "wal", "PRAGMA integrity_check;");
	sqlite3_close(rd);
	sqlite3_close(db);

	// A child dies by SIGKILL holding a write transaction in WAL mode:
	// the next opener recovers the log, without the uncommitted rows.
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		sqlite3 *c = open_db("wal.db");
		exec(c, 0, "INSERT INTO w VALUES (2000, 'committed');");
		exec(c, 0, "BEGIN; INSERT INTO w VALUES (2001, 'never'); UPDATE w SET v = 'x' WHERE k < 100;");
		kill(getpid(), SIGKILL);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("child killed: %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	db = open_db("wal.db");
	exec(db, "recovered", "SELECT count(*), sum(k), (SELECT v FROM w WHERE k = 2000), "
			      "(SELECT count(*) FROM w WHERE k = 2001), (SELECT count(*) FROM w WHERE v = 'x') FROM w;");
	exec(db, "recovered", "PRAGMA integrity_check;");
	sqlite3_close(db);

	// The same with memory-mapped I/O of the database file itself.
	db = open_db("mmap.db");
	exec(db, "mmap", "PRAGMA mmap_size=1048576;");
	exec(db, "mode", "PRAGMA journal_mode=WAL;");
	exec(db, 0, "CREATE TABLE m(k INTEGER PRIMARY KEY, v TEXT);"
		    "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 3000) "
		    "INSERT INTO m SELECT i, printf('%08x', i * 2654435761 % 4294967296) FROM s;");
	exec(db, 0, "PRAGMA wal_checkpoint(FULL);");
	exec(db, "mmap", "SELECT count(*), min(v), max(v), sum(k) FROM m;");
	exec(db, "mmap", "PRAGMA integrity_check;");
	sqlite3_close(db);

	grow();
	spill();
	exclusive();
	concurrent("conc-delete.db", "DELETE");
	concurrent("conc-wal.db", "WAL");
	printf("realsqlite: done\n");
	return 0;
}
