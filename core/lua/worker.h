/*
 * lua/worker: forwards to sys/worker (forked children, rlimits, deadlines),
 * where the worker processes now live. Kept only so that files which still
 * include "lua/worker.h" build; new code includes "sys/worker.h".
 */
#ifndef TANDEM_LUA_WORKER_H
#define TANDEM_LUA_WORKER_H

#include "sys/worker.h"

#endif
