// reallua: Lua 5.4 (Debian's liblua5.4.a, linked statically) running
// reallua.lua, built into this program, with the scratch directory
// argv[1] as its argument.
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>

// The script, from the assembler's .incbin (gcc runs in north/),
// NUL-terminated.
extern const char reallua_script[];
__asm__(".section .rodata\n"
	".global reallua_script\n"
	"reallua_script:\n"
	".incbin \"testdata/reallua/reallua.lua\"\n"
	".byte 0\n"
	".previous\n");

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	// The environment the script reads is its own, not the caller's.
	setenv("TZ", "UTC", 1);
	setenv("REALLUA", "from the environment", 1);
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	lua_pushstring(L, argc > 1 ? argv[1] : "/tmp");
	lua_setglobal(L, "DIR");
	if (luaL_loadbuffer(L, reallua_script, sizeof "" - 1 + __builtin_strlen(reallua_script), "reallua.lua") != LUA_OK ||
	    lua_pcall(L, 0, 0, 0) != LUA_OK) {
		printf("FAIL %s\n", lua_tostring(L, -1));
		return 1;
	}
	lua_close(L);
	return 0;
}
