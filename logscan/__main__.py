from logscan.entry import main

main()
