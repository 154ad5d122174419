// Command nacha-check reads NACHA files with moov-io/ach, an independent implementation of
// the Nacha Operating Rules, and prints what it understood as JSON: every entry's trace
// number, amount and transaction code, and for return entries the return reason code, the
// original entry's trace number and the original receiving DFI. A file moov-io/ach refuses
// makes it exit 1 with the library's error.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/moov-io/ach"
)

type entry struct {
	Trace           string `json:"trace"`
	TransactionCode int    `json:"transaction_code"`
	Amount          int    `json:"amount"`
	RDFI            string `json:"rdfi"`
	ReturnCode      string `json:"return_code,omitempty"`
	OriginalTrace   string `json:"original_trace,omitempty"`
	OriginalRDFI    string `json:"original_rdfi,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: nacha-check FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	file, err := ach.NewReader(f).Read()
	if err != nil {
		fmt.Fprintf(os.Stderr, "moov-io/ach refused %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := file.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "moov-io/ach found %s invalid: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	var entries []entry
	for _, batch := range file.Batches {
		for _, e := range batch.GetEntries() {
			out := entry{
				Trace:           e.TraceNumber,
				TransactionCode: e.TransactionCode,
				Amount:          e.Amount,
				RDFI:            e.RDFIIdentification,
			}
			if e.Addenda99 != nil {
				out.ReturnCode = e.Addenda99.ReturnCode
				out.OriginalTrace = e.Addenda99.OriginalTrace
				out.OriginalRDFI = e.Addenda99.OriginalDFI
			}
			entries = append(entries, out)
		}
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"entries": entries})
}
