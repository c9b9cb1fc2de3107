package hv

import (
	"bytes"
	"testing"
)

// FuzzVPAssist decodes hypervisor-written VP assist pages: it must never
// panic, and accept only the entry reasons the TLFS defines with the
// reserved bits clear.
func FuzzVPAssist(f *testing.F) {
	f.Add(append(make([]byte, 8), 1, 0, 0, 0, 0, 0, 0, 0))
	f.Add(append(make([]byte, 8), 2, 0, 0, 0, 1, 0, 0, 0))
	f.Add(append(make([]byte, 8), 3, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF))
	f.Fuzz(func(t *testing.T, b []byte) {
		page := make([]byte, PageSize)
		copy(page, b)
		c, err := DecodeVtlControl(page)
		if err != nil {
			return
		}
		if c.Reason != EntryVtlCall && c.Reason != EntryInterrupt {
			t.Fatalf("accepted entry reason %v", c.Reason)
		}
		if page[12]&^1 != 0 || page[13] != 0 || page[14] != 0 || page[15] != 0 {
			t.Fatalf("accepted reserved bits % x", page[8:16])
		}
	})
}

// FuzzSynICMessage decodes hypervisor-written message slots and every
// intercept payload: no panic, payloads within the slot, and an accepted
// intercept re-encodes to the bytes it came from.
func FuzzSynICMessage(f *testing.F) {
	slot := make([]byte, MessageSize)
	EncodeMessage(slot, MsgGpaIntercept, true, 1, EncodeGpaIntercept(GpaIntercept{InterceptHeader: InterceptHeader{InstructionLength: 3, Access: AccessWrite, Rip: 0x1000}, Gpa: 0x5000, InstructionBytes: []byte{0x89, 0x07}}))
	f.Add(slot)
	slot = make([]byte, MessageSize)
	EncodeMessage(slot, MsgRegisterIntercept, false, 1, EncodeRegisterIntercept(RegisterIntercept{InterceptHeader: InterceptHeader{InstructionLength: 3, Access: AccessWrite}, Name: RegCR4, Value: RegisterValue{Low: 0x6F0}}))
	f.Add(slot)
	slot = make([]byte, MessageSize)
	EncodeMessage(slot, MsgMsrIntercept, false, 1, EncodeMsrIntercept(MsrIntercept{InterceptHeader: InterceptHeader{InstructionLength: 2, Access: AccessWrite}, MSR: MSRLstar, Rax: 1}))
	f.Add(slot)
	f.Fuzz(func(t *testing.T, b []byte) {
		slot := make([]byte, MessageSize)
		copy(slot, b)
		m, err := DecodeMessage(slot)
		if err != nil {
			return
		}
		if len(m.Payload) > MaxPayload || len(m.Payload) != int(slot[7]) {
			t.Fatalf("payload %d bytes from size byte %d", len(m.Payload), slot[7])
		}
		if g, err := DecodeGpaIntercept(m.Payload); err == nil {
			if g.Access > AccessExecute || len(g.InstructionBytes) > 16 {
				t.Fatalf("accepted %+v", g)
			}
			if enc := EncodeGpaIntercept(g); !bytes.Equal(enc[:4], m.Payload[:4]) || !bytes.Equal(enc[8:44], m.Payload[8:44]) || !bytes.Equal(enc[48:64], m.Payload[48:64]) {
				t.Fatalf("GPA intercept does not re-encode:\n% x\n% x", enc, m.Payload[:GpaInterceptSize])
			}
		}
		if r, err := DecodeRegisterIntercept(m.Payload); err == nil {
			if enc := EncodeRegisterIntercept(r); !bytes.Equal(enc[44:64], m.Payload[44:64]) || !bytes.Equal(enc[8:40], m.Payload[8:40]) {
				t.Fatal("register intercept does not re-encode")
			}
		}
		if r, err := DecodeMsrIntercept(m.Payload); err == nil {
			if r.Value() != r.Rdx<<32|r.Rax&0xFFFF_FFFF {
				t.Fatal("MSR value is not EDX:EAX")
			}
		}
	})
}
