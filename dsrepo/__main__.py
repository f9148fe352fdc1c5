from dsrepo.commands.app import main

main()
