package north

import "errors"

func (t *Task) setupFrame(info sigInfo, act sigAction) error {
	return errors.New("signal frames not implemented yet")
}

func sysRtSigreturn(t *Task, a [6]uint64) int64 { return -38 }
